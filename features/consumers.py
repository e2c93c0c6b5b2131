"""The progress websocket: joins the group, sends the current state, forwards events."""

import asyncio

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer

from accounts import rules
from accounts.keys import InvalidKey
from accounts.websocket import user_now
from features.jobs import progress
from features.jobs.relay import relay, relay_wanted
from features.selectors import feature_status_body

# Close codes a client can tell apart (4000-4999 are the application's): 401 and 403.
CLOSE_NOT_AUTHENTICATED = 4401
CLOSE_FORBIDDEN = 4403


class FeatureProgressConsumer(AsyncJsonWebsocketConsumer):
    """Access is checked at the handshake and again before each event: a socket whose
    session ended, whose key was revoked or whose role no longer allows viewing is closed."""

    relayed = False  # whether this socket counts among the relay's listeners

    async def connect(self):
        if self.scope.get("invalid_key"):
            # As the API answers a bad key (401), not as an anonymous visitor.
            await self.accept()
            await self.send_json({"type": "error", "code": "invalid_key",
                                  "detail": InvalidKey.message})
            await self.close(code=CLOSE_NOT_AUTHENTICATED)
            return
        if not await database_sync_to_async(rules.can_view)(self.scope.get("user")):
            await self.close()  # before accept: the handshake is refused (403)
            return
        progress.remember_loop(asyncio.get_running_loop())
        await self.channel_layer.group_add(progress.GROUP, self.channel_name)
        if relay_wanted():  # this process runs no worker: its jobs' progress from the database
            self.relayed = True
            relay.listener_added()
        await self.accept()
        # A page that connects late (or reconnects) learns where things stand at once.
        status = await database_sync_to_async(feature_status_body)()
        await self.send_json({"type": "status", **status})

    async def disconnect(self, code):
        await self.channel_layer.group_discard(progress.GROUP, self.channel_name)
        if self.relayed:
            self.relayed = False
            relay.listener_removed()

    async def receive(self, text_data=None, bytes_data=None, **kwargs):
        """The socket only talks; anything a client sends (JSON or not) is ignored."""

    async def send_if_allowed(self, message: dict) -> None:
        user = await database_sync_to_async(user_now)(self.scope)
        if not await database_sync_to_async(rules.can_view)(user):
            await self.channel_layer.group_discard(progress.GROUP, self.channel_name)
            await self.close(code=CLOSE_NOT_AUTHENTICATED if not user.is_authenticated
                             else CLOSE_FORBIDDEN)
            return
        await self.send_json(message)

    async def job_progress(self, event):
        await self.send_if_allowed({"type": "progress", "job": event["job"]})

    async def job_complete(self, event):
        await self.send_if_allowed({"type": "complete", "job": event["job"],
                                    "counts": event["counts"]})

    async def features_status(self, event):
        await self.send_if_allowed({"type": "status", **event["status"]})
