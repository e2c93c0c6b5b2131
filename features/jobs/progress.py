"""Publishing job progress to the websocket group; consumers only forward it.

With the in-memory channel layer the consumers live on the server's event loop,
and that layer is not thread-safe: a worker thread hands its message to that loop
(remembered when a consumer connects) instead of running one of its own.
"""

import asyncio
import json
import logging

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer

from features.models import FeatureJob
from features.selectors import feature_counts, feature_status_body, job_body

logger = logging.getLogger(__name__)

GROUP = "features"
_server_loop: asyncio.AbstractEventLoop | None = None


def remember_loop(loop: asyncio.AbstractEventLoop) -> None:
    global _server_loop
    _server_loop = loop


def publish_progress(job: FeatureJob) -> None:
    _send({"type": "job.progress", "job": job_body(job)})


def publish_complete(job: FeatureJob) -> None:
    _send({"type": "job.complete", "job": job_body(job),
           "counts": feature_counts(extractor=job.extractor)})


def publish_status() -> None:
    """The whole status (both extractors' counts): after searches switched extractor."""
    _send({"type": "features.status", "status": feature_status_body()})


def publish(job: FeatureJob) -> None:
    """Progress while the job runs, completion once it has ended."""
    (publish_progress if job.is_active else publish_complete)(job)


def _send(message: dict) -> None:
    layer = get_channel_layer()
    if layer is None:
        return
    message = json.loads(json.dumps(message))  # plain types only, for any layer
    try:
        loop = _server_loop
        if loop is not None and loop.is_running() and not _in_loop(loop):
            asyncio.run_coroutine_threadsafe(layer.group_send(GROUP, message), loop).result(10)
        else:
            async_to_sync(layer.group_send)(GROUP, message)
    except Exception:  # progress is a courtesy: never let it stop the work
        logger.exception("Could not publish feature progress")


def _in_loop(loop) -> bool:
    try:
        return asyncio.get_running_loop() is loop
    except RuntimeError:
        return False
