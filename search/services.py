"""Search: a query image in, the most similar library images out.

A query is either an uploaded file (its vector extracted on the fly; the file is
never stored) or an image of the library (what searches compare for it: its
augmented vector where the worker has made one; it is left out of its own results).
Only vectors of the serving extractor are compared (features/serving.py: the configured
one, or while the library is re-embedded with it, the previous one). With SEARCH_QUERY_EXPANSION the
query is blended with its first hits and searched again (search/reranking.py).

Results are ranked with those re-ranked vectors, but the similarity shown is the cosine
of the query's and the result's own (plain) vectors: one measure everywhere, the one
the Duplicates tab shows, which blending with neighbours cannot inflate.
"""

import logging
from dataclasses import dataclass

import numpy as np
from django.conf import settings

from core.errors import Conflict, InvalidInput, Unavailable
from core.vectors import normalise
from features.extractors.warm_up import sample_image
from features.models import FeatureVector
from features.selectors import images_queued, tasks_exist, vectors_exist
from features.serving import serving_extractor, serving_row
from gallery.models import Image
from gallery.selectors import image_get
from gallery.storage import file_read
from gallery.uploads import UploadFile
from gallery.validation import check_not_empty, check_size, opened_image
from search.index import get_index, searchable_vector
from search.regions import Region, region_cut
from search.reranking import Reranking
from search.similarity import as_similarity

logger = logging.getLogger(__name__)
NO_FEATURES = "No image has features yet: generate features first."
# Uploads are queued for their features as they arrive: then there is nothing to do but wait.
FEATURES_QUEUED = "No image has features yet: they are being extracted, search again in a moment."


@dataclass(frozen=True)
class Match:
    image: Image
    similarity: float


@dataclass(frozen=True)
class SearchOutcome:
    matches: list[Match]
    query_name: str
    extractor: str
    # Every library image of the query (left out of the results), and the region searched.
    query_image_ids: tuple[int, ...] = ()
    region: Region | None = None

    @property
    def query_image_id(self) -> int | None:
        """The library image searched with, when the query was that one image."""
        return self.query_image_ids[0] if len(self.query_image_ids) == 1 else None


# Most images one search combines: a handful describe what is wanted; more only blur it.
MAX_QUERY_IMAGES = 10


def search_by_upload(*, upload: UploadFile, k: int | None = None, kind: str = Image.Kind.ALL,
                     min_similarity: float | None = None, region: Region | None = None
                     ) -> SearchOutcome:
    """Search with an uploaded image (or a region of it); nothing of it is kept."""
    k = _checked_options(k, kind, min_similarity)
    data = upload.read()
    _check_query_file(data)
    if region is not None:
        data = region_cut(data, region)
    serving = serving_row()
    _require_vectors(serving.fingerprint)
    vector = _extracted(serving, [data])[0]
    return _search(extractor=serving.fingerprint, query=vector, plain_query=vector, k=k,
                   kind=kind, min_similarity=min_similarity, query_image_ids=(),
                   query_name=upload.display_name, region=region)


def search_by_image(*, image_id: int, k: int | None = None, kind: str = Image.Kind.ALL,
                    min_similarity: float | None = None, region: Region | None = None
                    ) -> SearchOutcome:
    """Search with a library image's stored vector, or with a region of it extracted now;
    the image is not its own match."""
    k = _checked_options(k, kind, min_similarity)
    image = image_get(pk=image_id)
    serving = serving_row()
    if region is not None:
        _require_vectors(serving.fingerprint)
        try:
            data = file_read(image.file.name)
        except FileNotFoundError:
            raise Conflict(f"The file of {image.name} is missing from storage.",
                           code="file_missing") from None
        vector = plain = _extracted(serving, [region_cut(data, region)])[0]
    else:
        vector, plain = _stored_vectors(serving.fingerprint, [image])[0]
    return _search(extractor=serving.fingerprint, query=vector, plain_query=plain, k=k,
                   kind=kind, min_similarity=min_similarity, query_image_ids=(image.pk,),
                   query_name=image.name, region=region)


def search_by_several(*, uploads: list[UploadFile] = (), image_ids: list[int] = (),
                      k: int | None = None, kind: str = Image.Kind.ALL,
                      min_similarity: float | None = None) -> SearchOutcome:
    """Search with what several images have in common: the mean of their unit vectors,
    made unit length again. The library images among them are left out of the results."""
    k = _checked_options(k, kind, min_similarity)
    count = len(uploads) + len(image_ids)
    if not 1 <= count <= MAX_QUERY_IMAGES:
        raise InvalidInput(f"Search with 1 to {MAX_QUERY_IMAGES} query images ({count} sent).",
                           code="too_many_query_images")
    if len(set(image_ids)) != len(image_ids):
        raise InvalidInput("image_ids names an image more than once.", code="repeated_image_ids")
    images = Image.objects.in_bulk(image_ids)
    if unknown := [pk for pk in image_ids if pk not in images]:
        raise InvalidInput("No images with these ids in the library: "
                           + ", ".join(map(str, unknown)) + ".", code="unknown_image_ids")
    datas = [upload.read() for upload in uploads]
    for data in datas:
        _check_query_file(data)
    serving = serving_row()
    _require_vectors(serving.fingerprint)
    stored = _stored_vectors(serving.fingerprint, [images[pk] for pk in image_ids])
    extracted = list(_extracted(serving, datas)) if datas else []
    names = [images[pk].name for pk in image_ids] + [upload.display_name for upload in uploads]
    return _search(extractor=serving.fingerprint,
                   query=_combined([vector for vector, _ in stored] + extracted),
                   plain_query=_combined([plain for _, plain in stored] + extracted), k=k,
                   kind=kind, min_similarity=min_similarity, query_image_ids=tuple(image_ids),
                   query_name=", ".join(names))


def _combined(vectors: list[np.ndarray]) -> np.ndarray:
    """The mean of unit vectors, made unit length again."""
    return normalise(np.mean([normalise(np.asarray(v)).ravel() for v in vectors], axis=0))


def _extracted(serving, datas: list[bytes]) -> np.ndarray:
    extractor = serving_extractor(serving)
    extractor.load()
    return extractor.extract(datas)


def _stored_vectors(fingerprint: str, images: list[Image]) -> list[np.ndarray]:
    """(What searches compare, the plain vector) of these library images, in order; 409
    naming those without one yet."""
    found = {image_id: (searchable, plain) for image_id, searchable, plain in
             FeatureVector.objects.filter(image__in=images, extractor=fingerprint)
             .annotate(searchable=searchable_vector())
             .values_list("image_id", "searchable", "vector")}
    if missing := [image for image in images if image.pk not in found]:
        _require_vectors(fingerprint)  # none in the library says more than none for these
        queued = images_queued([image.pk for image in missing])
        waiting = [image.name for image in missing if image.pk not in queued]
        if waiting:
            message = (" has" if len(waiting) == 1 else " have") + (
                " no features yet: generate features, then search again.")
        else:
            waiting = [image.name for image in missing]
            message = (" is" if len(waiting) == 1 else " are") + (
                " queued for feature extraction: search again in a moment.")
        raise Conflict(", ".join(waiting) + message, code="query_has_no_features")
    return [found[image.pk] for image in images]


def _search(*, extractor, query, plain_query, k, kind, min_similarity, query_image_ids,
            query_name, region=None) -> SearchOutcome:
    reranking = Reranking.configured(settings)
    hits = get_index().search(
        extractor=extractor, query=normalise(np.asarray(query)).ravel(), k=k, kind=kind,
        exclude_image_ids=query_image_ids, expand_neighbours=reranking.expand_neighbours,
        alpha=reranking.alpha, floor=reranking.floor,
    )
    ids = [hit.image_id for hit in hits]
    images = Image.objects.in_bulk(ids)
    shown = _plain_similarities(extractor, plain_query, ids)
    # An image deleted a moment ago is left out rather than answered without its file.
    matches = [Match(images[pk], shown[pk]) for pk in ids if pk in images and pk in shown
               and (not min_similarity or shown[pk] >= min_similarity)]
    return SearchOutcome(matches=matches, query_name=query_name, extractor=extractor,
                         query_image_ids=tuple(query_image_ids), region=region)


def _plain_similarities(extractor: str, query: np.ndarray, image_ids: list[int]
                        ) -> dict[int, float]:
    """The cosine of ``query`` and each image's plain vector, as shown (0 to 1)."""
    query = normalise(np.asarray(query, dtype=np.float32)).ravel()
    rows = FeatureVector.objects.filter(image_id__in=image_ids, extractor=extractor)
    return {image_id: round(as_similarity(float(np.asarray(vector, np.float32) @ query)), 6)
            for image_id, vector in rows.values_list("image_id", "vector")}


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
        raise Conflict(FEATURES_QUEUED if tasks_exist() else NO_FEATURES, code="no_features")


def search_warm_up() -> bool:
    """Make the first search as fast as the next ones: load the serving extractor's model,
    run one image through it (a runtime prepares its kernels for a shape on its first call)
    and load the index. The server runs this in a thread as it starts."""
    serving = serving_row()
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
