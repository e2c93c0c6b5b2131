"""Django's ASGI handler, with the middleware chain run in one thread hop per request.

Every middleware and view of ImageSim is synchronous. Served over ASGI, Django runs its
chain in async mode and adapts each middleware that supports both modes (Django's own,
through MiddlewareMixin) with a ``sync_to_async`` hop for its ``process_request`` and
another for its ``process_response``: about 18 switches between the event loop and the
request's thread per request, which cost more CPU than serving a thumbnail itself
(bench/load.py). This handler builds the chain in sync mode, as under WSGI, and runs all
of it in the request's thread at once. What a request sees is unchanged: the same
middleware in the same order, the same thread for all of its sync code, and async views
and streaming responses still work (Django adapts them as it does under WSGI).
"""

from asgiref.sync import sync_to_async
from django.core.handlers.asgi import ASGIHandler


class SyncChainASGIHandler(ASGIHandler):
    def load_middleware(self, is_async=False):
        super().load_middleware(is_async=False)

    async def get_response_async(self, request):
        return await sync_to_async(self.get_response, thread_sensitive=True)(request)
