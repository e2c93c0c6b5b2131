"""Django's ASGI handler, run as a threaded WSGI server runs Django: whole, in a kept thread.

Every middleware and view of ImageSim is synchronous. Served over ASGI, Django costs more
in getting to the request's code than a thumbnail costs to serve, in two places:

- It runs its chain in async mode and adapts each middleware that supports both modes
  (Django's own, through MiddlewareMixin) with a ``sync_to_async`` hop for its
  ``process_request`` and another for its ``process_response``: about 18 switches between
  the event loop and the request's thread. This handler builds the chain in sync mode, as
  under WSGI, and runs all of it in one hop.
- It gives each request a thread of its own (asgiref's ThreadSensitiveContext) and starts
  that thread from the event loop, which waits until the new thread has taken the GIL:
  under load the loop spent most of its time there and left a core idle (py-spy,
  bench/load.py). Here a request takes a thread that an earlier request has finished
  with, and gives it back at its end, so threads are started only when more requests are
  in flight than ever before.
- Left alone, every request in flight runs Django code at once, and on a small machine
  they spend their time handing the GIL to each other: the CPU a request costs rose with
  the number running (bench/load.py: 17.6 ms a request with 3 at once, 21.1 with 8, and
  fewer requests a second). At most ``WEB_CONCURRENT_REQUESTS`` requests of a process run
  their Django code at once; the others wait on the event loop, which costs nothing.
  Requests wait only for that: reading a slow client's upload, sending a response and
  websockets are not counted.

What a request sees is unchanged: the same middleware in the same order, one thread for
all of its sync code and for no other request's meanwhile, and Django's signals at its
start and end (which close or keep its database connection, as for a WSGI thread).
Async views and streaming responses still work, adapted as Django adapts them under WSGI.
"""

import asyncio
import os
import weakref
from collections import deque
from concurrent.futures import ThreadPoolExecutor

from asgiref.sync import ThreadSensitiveContext, sync_to_async
from django.conf import settings
from django.core.handlers.asgi import ASGIHandler

# Idle request threads kept for the next requests: about the requests one process serves
# at once. More in flight start threads of their own, ended when they are not kept.
KEPT_THREADS = 64


class RequestThreads:
    """Single-thread executors for requests, each serving one request at a time."""

    def __init__(self, keep: int = KEPT_THREADS) -> None:
        self.keep = keep
        self.idle: deque[ThreadPoolExecutor] = deque()  # append and pop are thread-safe
        os.register_at_fork(after_in_child=self.idle.clear)  # a child has none of the threads

    def take(self) -> ThreadPoolExecutor:
        try:
            return self.idle.pop()
        except IndexError:
            return ThreadPoolExecutor(max_workers=1, thread_name_prefix="request")

    def give_back(self, executor: ThreadPoolExecutor) -> None:
        if len(self.idle) < self.keep:
            self.idle.append(executor)
        else:
            executor.shutdown(wait=False)


class SyncChainASGIHandler(ASGIHandler):
    def __init__(self) -> None:
        super().__init__()
        self.threads = RequestThreads()
        self._gates = weakref.WeakKeyDictionary()

    def load_middleware(self, is_async=False):
        super().load_middleware(is_async=False)

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            raise ValueError(f"Django can only handle ASGI/HTTP connections, not {scope['type']}.")
        executor = self.threads.take()
        try:
            # Every thread-sensitive call of this request (the signals, the chain, closing
            # the response) runs on this executor's one thread.
            async with ThreadSensitiveContext(executor=executor):
                await self.handle(scope, receive, send)
        finally:
            self.threads.give_back(executor)

    async def get_response_async(self, request):
        async with self.running():
            return await sync_to_async(self.get_response, thread_sensitive=True)(request)

    def running(self) -> asyncio.Semaphore:
        """The running event loop's gate (an asyncio primitive serves one loop)."""
        loop = asyncio.get_running_loop()
        gate = self._gates.get(loop)
        if gate is None:
            gate = self._gates[loop] = asyncio.Semaphore(settings.WEB_CONCURRENT_REQUESTS)
        return gate
