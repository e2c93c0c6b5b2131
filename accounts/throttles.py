"""Rate limits of the costly or abusable requests (rates: REST_FRAMEWORK in settings).

Counted per user (a key counts as its user), per address for anonymous visitors;
past the rate DRF answers 429 with Retry-After. A request may cost more than one: the
search limit counts the model runs a search makes.
"""

import logging
from collections.abc import Mapping

from redis.exceptions import RedisError
from rest_framework.settings import api_settings
from rest_framework.throttling import SimpleRateThrottle

logger = logging.getLogger(__name__)
# The search request's region fields: a region of a library image runs the model.
REGION_FIELDS = ("x", "y", "width", "height")


class PostRate(SimpleRateThrottle):
    """Counts POST requests only: listing the library is never limited."""

    methods = ("POST",)  # the schema lists 429 for these alone

    def allow_request(self, request, view):
        try:
            return self._allow(request, view)
        except (RedisError, OSError):
            # The counters' cache (Redis in a scale-out deployment) is away: serve the
            # request rather than fail it; limits come back with the cache.
            logger.warning("Rate limit not checked: the cache cannot be reached", exc_info=True)
            return True

    def get_rate(self):
        # Read at each request (DRF reads it once, at import), so the settings hold.
        return api_settings.DEFAULT_THROTTLE_RATES[self.scope]

    def get_cache_key(self, request, view):
        self.cost = self.cost_of(request) if request.method in self.methods else 0
        if not self.cost:
            return None
        # A request can never cost more than the whole rate, or it would never pass.
        self.cost = min(self.cost, self.num_requests)
        ident = request.user.pk if request.user.is_authenticated else self.get_ident(request)
        return self.cache_format % {"scope": self.scope, "ident": ident}

    def cost_of(self, request) -> int:
        """How much of the rate this request spends (0: not counted)."""
        return 1

    def _allow(self, request, view) -> bool:
        """DRF's own bookkeeping, with a request spending ``cost`` entries of the history."""
        if self.rate is None:
            return True
        self.key = self.get_cache_key(request, view)
        if self.key is None:
            return True
        self.history = self.cache.get(self.key, [])
        self.now = self.timer()
        while self.history and self.history[-1] <= self.now - self.duration:
            self.history.pop()
        if len(self.history) + self.cost > self.num_requests:
            return self.throttle_failure()
        self.history[:0] = [self.now] * self.cost
        self.cache.set(self.key, self.history, self.duration)
        return True

    def wait(self):
        # Until enough of the oldest entries (the history is newest first) have expired.
        expiring = len(self.history) + self.cost - self.num_requests
        oldest_needed = self.history[len(self.history) - expiring]
        return max(oldest_needed + self.duration - self.now, 1)


class SearchUploadRate(PostRate):
    """Counts model runs (RATE_SEARCH_UPLOAD is model runs a minute): one per uploaded query
    image, one for a region of a library image (its file is decoded and the model run on the
    region). A search by library images alone reads stored vectors and is not counted."""

    scope = "search_upload"

    def cost_of(self, request) -> int:
        uploads = len(request.FILES.getlist("file")) + len(request.FILES.getlist("files"))
        data = request.data
        # Any JSON may arrive (null, a list): the view refuses what is not an object.
        region = (isinstance(data, Mapping) and "image_id" in data
                  and any(name in data for name in REGION_FIELDS))
        return uploads + (1 if region and not uploads else 0)


class UploadRate(PostRate):
    scope = "uploads"


class KeyCreateRate(PostRate):
    scope = "key_create"
