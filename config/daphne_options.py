"""What daphne's command line cannot set.

Daphne leaves autobahn's `failByDrop` on, so a text frame that is not UTF-8 or a
message over `--websocket-max-message-size` drops the TCP connection without a close
frame: the client sees only 1006, an unexplained network failure, reconnects and may
send the same again. With it off the server fails the connection as RFC 6455 section
7.1.7 asks, with a close frame: 1007 (invalid payload) or 1009 (message too big).
"""


def close_failed_websockets_with_a_code() -> None:
    try:
        from daphne.ws_protocol import WebSocketFactory
    except ImportError:  # another server: nothing to change
        return
    if getattr(WebSocketFactory, "sends_close_codes", False):
        return
    original_init = WebSocketFactory.__init__

    def __init__(self, *args, **kwargs):
        original_init(self, *args, **kwargs)
        self.setProtocolOptions(failByDrop=False)

    WebSocketFactory.__init__ = __init__
    WebSocketFactory.sends_close_codes = True
