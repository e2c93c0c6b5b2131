"""Rate limits of the costly or abusable requests (rates: REST_FRAMEWORK in settings).

Counted per user (a key counts as its user), per address for anonymous visitors;
past the rate DRF answers 429 with Retry-After.
"""

import logging

from redis.exceptions import RedisError
from rest_framework.settings import api_settings
from rest_framework.throttling import SimpleRateThrottle

logger = logging.getLogger(__name__)


class PostRate(SimpleRateThrottle):
    """Counts POST requests only: listing the library is never limited."""

    methods = ("POST",)  # the schema lists 429 for these alone

    def allow_request(self, request, view):
        try:
            return super().allow_request(request, view)
        except (RedisError, OSError):
            # The counters' cache (Redis in a scale-out deployment) is away: serve the
            # request rather than fail it; limits come back with the cache.
            logger.warning("Rate limit not checked: the cache cannot be reached", exc_info=True)
            return True

    def get_rate(self):
        # Read at each request (DRF reads it once, at import), so the settings hold.
        return api_settings.DEFAULT_THROTTLE_RATES[self.scope]

    def get_cache_key(self, request, view):
        if request.method not in self.methods or not self.counts(request):
            return None
        ident = request.user.pk if request.user.is_authenticated else self.get_ident(request)
        return self.cache_format % {"scope": self.scope, "ident": ident}

    def counts(self, request) -> bool:
        return True


class SearchUploadRate(PostRate):
    """Search by upload runs the model; search by a library image is cheap and not counted."""

    scope = "search_upload"

    def counts(self, request) -> bool:
        return bool(request.FILES)


class UploadRate(PostRate):
    scope = "uploads"


class KeyCreateRate(PostRate):
    scope = "key_create"
