"""ASGI entry point: HTTP through Django, WebSockets through Channels.

`get_asgi_application()` must run before any consumer is imported, because
importing consumers imports models.
"""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.production")
django_asgi_app = get_asgi_application()

from channels.auth import AuthMiddlewareStack  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from channels.security.websocket import AllowedHostsOriginValidator  # noqa: E402

from config.daphne_options import close_failed_websockets_with_a_code  # noqa: E402
from rooms.routing import websocket_urlpatterns  # noqa: E402

# Daphne imports this module before it builds its WebSocket factory.
close_failed_websockets_with_a_code()

application = ProtocolTypeRouter(
    {
        "http": django_asgi_app,
        "websocket": AllowedHostsOriginValidator(AuthMiddlewareStack(URLRouter(websocket_urlpatterns))),
    }
)
