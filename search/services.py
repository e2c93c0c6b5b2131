"""Search: a query image in, the most similar library images out.

A query is either an uploaded file (its vector extracted on the fly; the file is
never stored) or an image of the library (what searches compare for it: its
augmented vector where the worker has made one; it is left out of its own results).
Only vectors of the serving extractor are compared (features/switching.py: the configured
one, or while the library is re-embedded with it, the previous one). With SEARCH_QUERY_EXPANSION the
query is blended with its first hits and searched again (search/reranking.py).
"""

import logging
from dataclasses import dataclass

import numpy as np
from django.conf import settings

from core.errors import Conflict, InvalidInput, Unavailable
from core.vectors import normalise
from features.extractors.warmup import sample_image
from features.models import FeatureVector
from features.selectors import vectors_exist
from features.switching import extractor_serving, serving_extractor
from gallery.models import Image
from gallery.selectors import image_get
from gallery.uploads import UploadFile
from gallery.validation import check_not_empty, check_size, opened_image
from search.index import get_index, searchable_vector
from search.reranking import Reranking
from search.similarity import as_similarity

logger = logging.getLogger(__name__)
NO_FEATURES = "No image has features yet: generate features first."


@dataclass(frozen=True)
class Match:
    image: Image
    similarity: float


@dataclass(frozen=True)
class SearchOutcome:
    matches: list[Match]
    query_image_id: int | None
    query_name: str
    extractor: str


def search_by_upload(*, upload: UploadFile, k: int | None = None, kind: str = Image.Kind.ALL,
                     min_similarity: float | None = None) -> SearchOutcome:
    """Search with an uploaded image; nothing of it is kept."""
    k = _checked_options(k, kind, min_similarity)
    data = upload.read()
    _check_query_file(data)
    serving = extractor_serving()
    _require_vectors(serving.fingerprint)
    extractor = serving_extractor(serving)
    extractor.load()
    vector = extractor.extract([data])[0]
    return _search(extractor=extractor.fingerprint, query=vector, k=k, kind=kind,
                   min_similarity=min_similarity, query_image_id=None,
                   query_name=upload.display_name)


def search_by_image(*, image_id: int, k: int | None = None, kind: str = Image.Kind.ALL,
                    min_similarity: float | None = None) -> SearchOutcome:
    """Search with a library image's stored vector; the image is not its own match."""
    k = _checked_options(k, kind, min_similarity)
    image = image_get(pk=image_id)
    fingerprint = extractor_serving().fingerprint
    _require_vectors(fingerprint)
    vector = (FeatureVector.objects.filter(image=image, extractor=fingerprint)
              .annotate(searchable=searchable_vector())
              .values_list("searchable", flat=True).first())
    if vector is None:
        raise Conflict(
            f"{image.name} has no features yet: generate features, then search again.",
            code="query_has_no_features",
        )
    return _search(extractor=fingerprint, query=vector, k=k, kind=kind,
                   min_similarity=min_similarity, query_image_id=image.pk, query_name=image.name)


def _search(*, extractor, query, k, kind, min_similarity, query_image_id, query_name
            ) -> SearchOutcome:
    reranking = Reranking.configured(settings)
    hits = get_index().search(
        extractor=extractor, query=normalise(np.asarray(query)).ravel(), k=k, kind=kind,
        min_similarity=min_similarity or None, exclude_image_id=query_image_id,
        expand_neighbours=reranking.expand_neighbours, alpha=reranking.alpha,
    )
    images = Image.objects.in_bulk([hit.image_id for hit in hits])
    # An image deleted a moment ago is left out rather than answered without its file.
    matches = [Match(images[hit.image_id], round(as_similarity(hit.score), 6))
               for hit in hits if hit.image_id in images]
    return SearchOutcome(matches=matches, query_image_id=query_image_id,
                         query_name=query_name, extractor=extractor)


def _checked_options(k, kind, min_similarity) -> int:
    k = settings.SEARCH_DEFAULT_K if k is None else k
    if isinstance(k, bool) or not isinstance(k, int) or not 1 <= k <= settings.SEARCH_MAX_K:
        raise InvalidInput(f"k must be a whole number from 1 to {settings.SEARCH_MAX_K}.",
                           code="invalid_k")
    if kind not in Image.Kind.values:
        raise InvalidInput("kind must be one of: " + ", ".join(Image.Kind.values) + ".",
                           code="invalid_kind")
    if min_similarity is not None and not 0.0 <= min_similarity <= 1.0:
        raise InvalidInput("min_similarity must be a number from 0 to 1.",
                           code="invalid_min_similarity")
    return k


def _check_query_file(data: bytes) -> None:
    """The upload checks that matter for a query, from the file's header alone.

    Not empty, not too large, a supported format, not too many pixels. The
    extractor decodes the picture next (reduced, for JPEG) and refuses a truncated
    or corrupt one, so a query is never decoded twice at full size.
    """
    check_not_empty(data)
    check_size(data)
    with opened_image(data, purpose="search with"):
        pass  # opening checks the header: format and pixel count


def _require_vectors(fingerprint: str) -> None:
    if not vectors_exist(extractor=fingerprint):
        raise Conflict(NO_FEATURES, code="no_features")


def search_warm_up() -> bool:
    """Make the first search as fast as the next ones: load the serving extractor's model,
    run one image through it (a runtime prepares its kernels for a shape on its first call)
    and load the index. The server runs this in a thread as it starts."""
    serving = extractor_serving()
    if not vectors_exist(extractor=serving.fingerprint):
        return False
    try:
        extractor = serving_extractor(serving)
        extractor.load()
        extractor.extract([sample_image()])
    except (Unavailable, InvalidInput) as exc:
        logger.info("Search warm-up skipped the model: %s", exc.message)
    vector = (FeatureVector.objects.filter(extractor=serving.fingerprint)
              .values_list("vector", flat=True).first())
    if vector is not None:
        get_index().search(extractor=serving.fingerprint, query=normalise(vector).ravel(), k=1)
    return True
