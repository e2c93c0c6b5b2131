"""Loading the model when a process starts, not when its first request arrives.

Building ResNet50 and compiling its graphs takes seconds; a search or a batch that
arrives first would wait for all of it (under 50 clients at once on a fresh server,
search by upload took near 28 s at p99). A web process warms the one-image path
(search by upload), a worker also the batched one.
"""

import io
import logging
import threading

from django.conf import settings
from PIL import Image as PILImage

from core.errors import Unavailable
from features.extractors.loader import get_extractor

logger = logging.getLogger(__name__)


def sample_image() -> bytes:
    """A small photo-sized JPEG: it goes through the same decoding as a real one."""
    out = io.BytesIO()
    PILImage.linear_gradient("L").convert("RGB").resize((320, 240)).save(out, "JPEG")
    return out.getvalue()


def model_warm_up(*, batched: bool) -> bool:
    """Load the extractor and run it once per path; False (and a log line) without a model."""
    extractor = get_extractor()
    try:
        extractor.check_available()
        data = sample_image()
        extractor.extract([data])
        if batched:
            extractor.extract([data, data])
    except Unavailable as exc:
        logger.warning("Model not warmed up: %s", exc.message)
        return False
    logger.info("Model warmed up (%s)", extractor.fingerprint)
    return True


def start_model_warm_up(*, batched: bool) -> threading.Thread | None:
    """Warm up in a daemon thread (so start-up is not delayed), if FEATURE_WARM_UP is on."""
    if not settings.FEATURE_WARM_UP:
        return None
    thread = threading.Thread(target=model_warm_up, kwargs={"batched": batched},
                              name="model-warm-up", daemon=True)
    thread.start()
    return thread
