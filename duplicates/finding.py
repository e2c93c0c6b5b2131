"""Finding candidate pairs incrementally, in the feature worker, as vectors arrive.

Every vector row gets compared once, when it is new, with every plain vector of its
extractor (never the augmented ones: those blend in neighbours, and two different
photos of one neighbourhood would come out alike). Each other vector at or above
DUPLICATE_FLOOR makes a pair row. A pair is found by whichever of its two vectors
is compared later, as the earlier one is already there, so after any sequence of adds
the pairs are exactly those a comparison of all vectors from scratch gives; deletes
need nothing here, as a pair goes with either of its vectors (a cascade).

Pairs the vectors leave in doubt (below MATCH_BELOW) are checked on the pictures too:
their thumbnails are matched (duplicates/pixels.py), and a match of at least
DUPLICATE_MATCH raises the pair's score to it. That finds copies the vectors put far
apart (a photo in a screenshot's window, a crop) without taking two photos of similar
things for copies. The match depends on the two pictures alone, so it too equals what
a recomputation gives.

This is the "duplicates" stage of the feature worker (features/jobs/stages.py). The
neighbours come from the worker's stage runner (search/index/neighbours.py; pgvector's
index holds the augmented vectors, so never that): an exact scan of the plain vectors, or,
where the approximate index serves, its candidates above the floor scored again exactly.
A pass compares at most BATCH new vectors, so a busy worker spends a bounded time here
between batches; a backlog (a backfill) goes BACKLOG_BATCH at a time. New vectors are
looked for among those the change log names since the last pass that found none (a
Frontier), not among every vector.
"""

import logging

import numpy as np
from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import Exists, OuterRef

from core.errors import ImageSimError
from duplicates.models import DuplicatePair, DuplicateScan, PixelDigest
from duplicates.pixels import PictureMatcher, grey_picture, image_pixel_digest
from features.models import FeatureVector
from features.jobs.stages import Frontier, StagePass, vector_newest
from gallery.models import Image
from gallery.storage import file_read

logger = logging.getLogger(__name__)

# New vectors per pass: with their pairs' thumbnails matched (3 to 4 ms a pair in
# doubt, bench/duplicates.py), a pass of 64 with a few pairs in doubt a vector takes
# about a second, so a busy worker is not held up long.
BATCH = 64
# A backlog at least this long (a library embedded before duplicates existed, a large
# import) is compared this many at a time: the approximate index then joins its lists
# with the whole batch at once (search/index/join.py), several times cheaper a vector.
BACKLOG_BATCH = 2048
# Ids read in one statement: a backlog's pass can name more than SQLite takes at once.
IDS_AT_ONCE = 10_000
# Pairs looked up in one statement (two parameters each).
PAIRS_AT_ONCE = 2_000
# Pairs at least this alike may be the same pixels: their images get a pixel digest.
IDENTICAL_CANDIDATE = 0.99
# Pairs less alike than this have their pictures matched too (above it, every copy the
# benchmark made was a copy, and no two other photos came this close).
MATCH_BELOW = 0.95

_frontier = Frontier()


def vectors_unscanned(extractor: str, among=None):
    """The extractor's vectors not compared yet (of the ids ``among``, a query, if given)."""
    vectors = FeatureVector.objects.filter(extractor=extractor)
    if among is not None:
        vectors = vectors.filter(pk__in=among)
    return vectors.filter(~Exists(DuplicateScan.objects.filter(vector_id=OuterRef("pk"))))


def duplicates_warm(extractor: str) -> None:
    """Look once at every vector, ahead of the first pass after a start
    (features.jobs.stages.stages_warm): with none waiting, passes look only among the
    vectors the log names from here."""
    if connection.vendor != "sqlite":
        return  # passes look at every vector there (Frontier)
    written = _frontier.written(extractor)
    if written.ids is None and not vectors_unscanned(extractor).filter(
            id__lte=vector_newest(extractor)).exists():
        written.caught_up()


def duplicates_pass(work: StagePass) -> int:
    """Compare up to BATCH new vectors (BACKLOG_BATCH from a backlog) with all the others;
    return how many were compared."""
    extractor = work.extractor
    written = _frontier.written(extractor)
    new = list(vectors_unscanned(extractor, among=written.ids).order_by("id")
               .values_list("id", flat=True)[:BACKLOG_BATCH])
    if len(new) < BACKLOG_BATCH:
        new = new[:BATCH]
    if not new:
        written.caught_up()
        return 0
    floor = float(settings.DUPLICATE_FLOOR)
    with work.plain_neighbours(keys=new) as plain:
        pairs = _pairs_above(plain, new, floor)
    doubt = [pair for pair in pairs if pair[4] < MATCH_BELOW]
    stored = _pairs_stored(doubt, set(new))
    matches = _matches({(a, b) for first, second, a, b, _ in doubt
                        if (first, second) not in stored})
    least = float(settings.DUPLICATE_MATCH)
    with transaction.atomic():
        # The index can still hold a vector deleted a moment ago (its change not yet read):
        # pairs only of vectors that are there. One deleted after this check makes the
        # commit fail, and the pass is tried again.
        involved = {vector for a, b, *_ in pairs for vector in (a, b)} | set(new)
        present = set(_each_chunk(FeatureVector.objects.values_list("pk", flat=True), involved))
        pairs = [pair for pair in pairs if pair[0] in present and pair[1] in present]
        _pairs_insert([(a, b, image_a, image_b, extractor, score, matches.get((image_a, image_b)),
                        pair_score(score, matches.get((image_a, image_b)), least))
                       for a, b, image_a, image_b, score in pairs])
        # Vectors gone meanwhile are simply not marked.
        DuplicateScan.objects.bulk_create(
            [DuplicateScan(vector_id=v) for v in sorted(present & set(new))],
            ignore_conflicts=True)
    _digest_images({image for _, _, a, b, score in pairs if score >= IDENTICAL_CANDIDATE
                    for image in (a, b)})
    return len(new)


def _pairs_above(plain, new: list[int], floor: float) -> list[tuple]:
    """(vector, vector, image, image, similarity) of every other row at or above ``floor``
    for each new vector, each pair once (two new vectors find each other); the lower
    vector id first."""
    found = {}
    for key, item, others, other_items, scores in plain.above(new, floor):
        after = others > key
        firsts, seconds = np.where(after, key, others), np.where(after, others, key)
        first_images = np.where(after, item, other_items)
        second_images = np.where(after, other_items, item)
        found.update(zip(zip(firsts.tolist(), seconds.tolist()),
                         zip(first_images.tolist(), second_images.tolist(),
                             np.minimum(scores, 1.0).tolist())))
    return [(a, b, image_a, image_b, score)
            for (a, b), (image_a, image_b, score) in found.items()]


def _pairs_stored(pairs: list[tuple], new: set[int]) -> set[tuple[int, int]]:
    """Of ``pairs`` (vector, vector, ...), those stored already: found by the other vector's
    own pass, when it was compared first (a backlog goes in batches, and a stage behind
    extraction compares vectors that later ones come near). Their thumbnails are not
    matched again (their insert is ignored, as for any pair stored). A pair of two ``new``
    vectors cannot be stored yet."""
    asked = [(a, b) for a, b, *_ in pairs if not (a in new and b in new)]
    meta = DuplicatePair._meta
    first, second = (connection.ops.quote_name(meta.get_field(name).column)
                     for name in ("first", "second"))
    stored = set()
    with connection.cursor() as cursor:
        for start in range(0, len(asked), PAIRS_AT_ONCE):
            chunk = asked[start:start + PAIRS_AT_ONCE]
            firsts = sorted({a for a, _ in chunk})
            # The first vectors' list lets the pairs' unique index be searched (a row-value
            # list alone scans it on SQLite, every pair ever stored).
            cursor.execute(
                f"SELECT {first}, {second} FROM {connection.ops.quote_name(meta.db_table)} "
                f"WHERE {first} IN ({', '.join(['%s'] * len(firsts))}) "
                f"AND ({first}, {second}) IN (VALUES {', '.join(['(%s, %s)'] * len(chunk))})",
                [*firsts, *(vector for pair in chunk for vector in pair)])
            stored.update(map(tuple, cursor.fetchall()))
    return stored


def _pairs_insert(rows: list[tuple]) -> None:
    """Store pairs (first, second, their images, extractor, similarity, match, score), but
    none already there. One statement for them all: the ORM's ``bulk_create`` spent 42 of a
    backfill pass's 68 s building its SQL (2,048 vectors, 480,000 pairs)."""
    meta = DuplicatePair._meta
    columns = ", ".join(connection.ops.quote_name(meta.get_field(name).column) for name in (
        "first", "second", "first_image_id", "second_image_id", "extractor", "similarity",
        "match", "score"))
    with connection.cursor() as cursor:
        cursor.executemany(
            f"INSERT INTO {connection.ops.quote_name(meta.db_table)} ({columns}) VALUES "
            f"(%s, %s, %s, %s, %s, %s, %s, %s) ON CONFLICT DO NOTHING", rows)


def pair_score(similarity: float, match: float | None, least: float) -> float:
    """What thresholds compare: the similarity, raised to the match where the match makes
    the pair a copy."""
    if match is not None and match >= least:
        return max(similarity, match)
    return similarity


def _matches(pairs: set[tuple[int, int]]) -> dict[tuple[int, int], float]:
    """The match score of each pair of images, from their thumbnails (each read once)."""
    images = {image for pair in pairs for image in pair}
    pictures = {}
    for image in _each_chunk(Image.objects.only("pk", "thumbnail", "filename"), images):
        try:
            pictures[image.pk] = grey_picture(file_read(image.thumbnail.name))
        except (OSError, ValueError, ImageSimError) as exc:
            logger.warning("Could not read the thumbnail of %s: %s", image.filename, exc)
    matcher = PictureMatcher(pictures)
    # In order of the first image: its arrays are made once for all its pairs.
    return {(a, b): matcher.score(a, b) for a, b in sorted(pairs)
            if a in pictures and b in pictures}


def _each_chunk(queryset, ids):
    """The rows of ``queryset`` with these primary keys, read IDS_AT_ONCE ids at a time."""
    ids = sorted(ids)
    for start in range(0, len(ids), IDS_AT_ONCE):
        yield from queryset.filter(pk__in=ids[start:start + IDS_AT_ONCE])


def _digest_images(image_ids: set[int]) -> None:
    digested = _each_chunk(PixelDigest.objects.values_list("image_id", flat=True), image_ids)
    for image in _each_chunk(Image.objects.all(), image_ids - set(digested)):
        digest = image_pixel_digest(image)
        if digest is None:
            continue
        try:
            with transaction.atomic():
                PixelDigest.objects.get_or_create(image=image, defaults={"digest": digest})
        except IntegrityError:  # deleted meanwhile
            continue
