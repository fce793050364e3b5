"""ASGI entry point: HTTP through Django, WebSockets through Channels.

`get_asgi_application()` must run before any consumer is imported, because
importing consumers imports models.
"""

import gc
import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.production")
django_asgi_app = get_asgi_application()

from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402

from rooms.origin import SameOriginValidator  # noqa: E402
from rooms.routing import signed_in_websocket_urlpatterns  # noqa: E402
from rooms.server.daphne import bound_request_bodies, close_failed_websockets_with_a_code  # noqa: E402

# Daphne imports this module before it builds its WebSocket factory.
close_failed_websockets_with_a_code()

# A room server holds a few hundred thousand long-lived objects (its sockets) and makes
# many short-lived ones per message. With CPython's default thresholds a full
# collection ran every few seconds and held every socket up for 100-200 ms (measured
# with gc.callbacks under benchmarks/rooms.py). The objects of start-up are frozen out
# of collection, and the youngest generation is collected after 50,000 net allocations
# rather than 700, so that most short-lived objects are gone before a collection.
gc.freeze()
gc.set_threshold(50_000, 20, 10)

# Request bodies past their cap are refused while they stream in (config.body_limit).
from config.body_limit import RequestBodyLimit  # noqa: E402

bound_request_bodies()

application = ProtocolTypeRouter(
    {
        "http": RequestBodyLimit(django_asgi_app),
        "websocket": SameOriginValidator(URLRouter(signed_in_websocket_urlpatterns)),
    }
)
