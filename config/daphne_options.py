"""What daphne's command line cannot set.

Request bodies: daphne reads a whole request body before it calls the application,
and Twisted's Request, which daphne does not tell otherwise, then reads a multipart
or form body into memory to parse it (for nothing: Django parses it again). A 200 MB
upload cost 200 MB of memory before any of our code ran. `bound_request_bodies`
builds daphne's requests with Twisted's public `parsePOSTFormSubmission=False` and
stops reading a body past the largest cap of config.body_limit, answering 413 and
closing the connection as a client that went away would.

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


def bound_request_bodies() -> None:
    try:
        from daphne.http_protocol import HTTPFactory, WebRequest
    except ImportError:  # another server: config.body_limit alone applies
        return
    if getattr(HTTPFactory, "bounds_request_bodies", False):
        return
    import inspect
    import logging

    from twisted.web.http import Request

    from config.body_limit import largest_body_limit, refusal_text

    logger = logging.getLogger(__name__)
    if "parsePOSTFormSubmission" not in inspect.signature(Request.__init__).parameters:
        logger.error(
            "Twisted's Request has no parsePOSTFormSubmission: daphne's request bodies are not bounded "
            "(config.body_limit still refuses them before Django reads them)"
        )
        return

    class BoundedWebRequest(WebRequest):
        def __init__(self, *args, **kwargs):
            kwargs.setdefault("parsePOSTFormSubmission", False)
            self._body_received = 0
            self._body_refused = False
            super().__init__(*args, **kwargs)

        def gotLength(self, length):
            super().gotLength(length)
            if length is not None and length > largest_body_limit():
                self._refuse_body()

        def handleContentChunk(self, data):
            if self._body_refused:
                return
            self._body_received += len(data)
            if self._body_received > largest_body_limit():
                self._refuse_body()
                return
            super().handleContentChunk(data)

        def requestReceived(self, command, path, version):
            if not self._body_refused:
                super().requestReceived(command, path, version)

        def _refuse_body(self):
            self._body_refused = True
            languages = self.requestHeaders.getRawHeaders(b"accept-language") or [b""]
            body = refusal_text(largest_body_limit(), languages[0].decode("latin-1")).encode()
            self.channel.transport.write(
                b"HTTP/1.1 413 Content Too Large\r\ncontent-type: text/plain; charset=utf-8\r\n"
                b"content-length: %d\r\nconnection: close\r\n\r\n%s" % (len(body), body)
            )
            self.channel.transport.loseConnection()

    original_build = HTTPFactory.buildProtocol

    def buildProtocol(self, addr):
        protocol = original_build(self, addr)
        if protocol is not None and protocol.requestFactory is WebRequest:
            protocol.requestFactory = BoundedWebRequest
        elif protocol is not None and protocol.requestFactory is not BoundedWebRequest:
            logger.error("daphne builds %r requests: request bodies are not bounded", protocol.requestFactory)
        return protocol

    HTTPFactory.buildProtocol = buildProtocol
    HTTPFactory.bounds_request_bodies = True
