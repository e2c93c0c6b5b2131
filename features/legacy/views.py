"""The original app's feature endpoints, same paths and JSON shapes."""

import asyncio
import json
import time

from channels.db import database_sync_to_async
from django.http import StreamingHttpResponse
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response

from accounts import rules
from core.legacy import LegacyApiView
from features.extractors.loader import get_extractor
from features.jobs import embedded, services
from features.models import FeatureJob
from features.selectors import feature_counts, vectors_exist
from features.serving import serving_fingerprint

POLL_SECONDS = 0.5
KEEPALIVE_SECONDS = 15.0


class EventStreamRenderer(JSONRenderer):
    """Lets clients that ask for text/event-stream in; errors still come back as JSON."""

    media_type = "text/event-stream"
    format = "sse"


@extend_schema(tags=["original app"], responses=inline_serializer("LegacyCheckFeatures", {
    "exists": serializers.BooleanField()}))
class LegacyCheckFeaturesApi(LegacyApiView):
    def get(self, request):
        return Response({"exists": vectors_exist(extractor=serving_fingerprint())})


@extend_schema(tags=["original app"], request=None,
               responses={(200, "text/event-stream"): {
                   "type": "object",
                   "description": "Server-sent events: data is JSON, {progress, current, total} "
                                  "while the job runs, then {complete, count, original_count} "
                                  "or {error}.",
                   "properties": {"data": {"type": "string"}, "event": {"type": "string"}},
               }})
class LegacyGenerateFeaturesApi(LegacyApiView):
    renderer_classes = [JSONRenderer, EventStreamRenderer]
    access = {"POST": rules.can_generate}

    def post(self, request):
        job, _created = services.job_start(extractor=get_extractor())
        embedded.wake()
        response = StreamingHttpResponse(job_events(job.pk), content_type="text/event-stream")
        response["Cache-Control"] = "no-cache"
        response["X-Accel-Buffering"] = "no"
        return response


async def job_events(job_id: int, *, poll: float = POLL_SECONDS):
    """Server-sent events: progress while the job runs, then completion (or an error).

    An async generator, so the ASGI server sends each event as it comes (Django
    would read a sync iterator to its end before sending anything).
    """
    last, quiet_since = None, time.monotonic()
    while True:
        job = await _job_get(job_id)
        if job is None or not job.is_active:
            break
        current = job.done + job.failed
        if (current, job.total) != last:
            last, quiet_since = (current, job.total), time.monotonic()
            percent = int(100 * current / job.total) if job.total else 0
            yield _event({"progress": percent, "current": current, "total": job.total})
        elif time.monotonic() - quiet_since > KEEPALIVE_SECONDS:
            quiet_since = time.monotonic()
            yield ": waiting for the feature worker\n\n"
        await asyncio.sleep(poll)
    if job is not None and job.state == FeatureJob.State.FAILED:
        yield _event({"error": job.error or "Feature generation failed."})
        return
    extractor = job.extractor if job else get_extractor().fingerprint
    counts = await database_sync_to_async(feature_counts)(extractor=extractor)
    if job is not None and last != (job.done + job.failed, job.total) and job.total:
        yield _event({"progress": 100, "current": job.done + job.failed, "total": job.total})
    yield _event({"complete": True, "count": counts["user_vectors"],
                  "original_count": counts["original_vectors"]})


@database_sync_to_async
def _job_get(job_id: int) -> FeatureJob | None:
    return FeatureJob.objects.filter(pk=job_id).first()


def _event(data: dict) -> str:
    return f"data: {json.dumps(data)}\n\n"
