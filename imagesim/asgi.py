"""ASGI entry point: HTTP through Django, websockets through Channels."""

import os

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "imagesim.settings")
# Django must be set up before anything imports models (the websocket routes do).
django.setup(set_prefix=False)

from imagesim.handlers import SyncChainASGIHandler  # noqa: E402

# Django's handler, with the sync middleware chain in one thread hop (imagesim/handlers.py).
django_asgi_app = SyncChainASGIHandler()

from channels.auth import AuthMiddlewareStack  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from django.conf import settings  # noqa: E402
from django.urls import get_resolver  # noqa: E402

from accounts.setup import setup_code_announce  # noqa: E402
from accounts.websocket import ApiKeyWebsocketMiddleware, SameOriginValidator  # noqa: E402
from core.body_size import BodySizeLimit  # noqa: E402
from features.extractors.warm_up import start_model_warm_up  # noqa: E402
from features.jobs.embedded import start_embedded_worker  # noqa: E402
from imagesim.routing import websocket_urlpatterns  # noqa: E402
from imagesim.server import daphne_leave_forms_to_django  # noqa: E402
from search.warm_up import start_search_warm_up  # noqa: E402

# The URL configuration imports every view (and Redis' client, with the throttles): load
# it now rather than while the first request waits (about 0.3 s). Django itself loads
# it on the first request; the middleware it loaded above.
get_resolver().url_patterns  # noqa: B018
# On a new install others can reach, the console shows the first administrator's setup code
# (once: bin/serve's first process).
if settings.WEB_PROCESS_INDEX == 0:
    setup_code_announce()
daphne_leave_forms_to_django()
# Extraction runs in this process unless FEATURE_EMBEDDED_WORKER is off (tests, scale-out).
start_embedded_worker()
# Models load as the server starts, not on the first request: search's (with its index,
# SEARCH_WARM_UP) and the embedded worker's batched path (FEATURE_WARM_UP).
start_search_warm_up()
if settings.FEATURE_EMBEDDED_WORKER:
    start_model_warm_up(batched=True)

application = ProtocolTypeRouter(
    {
        # Bodies over the limit are refused as they arrive, before Django reads them.
        "http": BodySizeLimit(django_asgi_app),
        # The browser's session, or an API key in the handshake's Authorization header;
        # the consumers check the access rules. The Origin must be the page's own.
        "websocket": SameOriginValidator(
            AuthMiddlewareStack(ApiKeyWebsocketMiddleware(URLRouter(websocket_urlpatterns)))
        ),
    }
)
