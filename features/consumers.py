"""The progress websocket: joins the group, sends the current state, forwards events."""

import asyncio

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer

from accounts import rules
from features.jobs import progress
from features.selectors import feature_status_body


class FeatureProgressConsumer(AsyncJsonWebsocketConsumer):
    async def connect(self):
        if not await database_sync_to_async(rules.can_view)(self.scope.get("user")):
            await self.close()  # before accept: the handshake is refused (403)
            return
        progress.remember_loop(asyncio.get_running_loop())
        await self.channel_layer.group_add(progress.GROUP, self.channel_name)
        await self.accept()
        # A page that connects late (or reconnects) learns where things stand at once.
        await self.send_json({"type": "status", **await database_sync_to_async(feature_status_body)()})

    async def disconnect(self, code):
        await self.channel_layer.group_discard(progress.GROUP, self.channel_name)

    async def receive(self, text_data=None, bytes_data=None, **kwargs):
        """The socket only talks; anything a client sends (JSON or not) is ignored."""

    async def job_progress(self, event):
        await self.send_json({"type": "progress", "job": event["job"]})

    async def job_complete(self, event):
        await self.send_json({"type": "complete", "job": event["job"], "counts": event["counts"]})

    async def features_status(self, event):
        await self.send_json({"type": "status", **event["status"]})
