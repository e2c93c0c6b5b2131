"""Hashing images and pairing them by Hamming distance, in the feature worker.

``hashes_pass`` does both, a batch at a time, for new uploads and for a library that
had no hashes yet (the same work: images without a hash). First it hashes up to BATCH
images from their thumbnails and commits the hashes; then it looks up the neighbours of
up to BATCH committed hashes not yet paired. As every hash is committed before it is
looked up, of two copies hashed at the same time by two workers the later lookup sees
the other: after any adds the pairs are exactly those a comparison of all hashes gives.
Deletes need nothing here: a pair goes with either of its images (a cascade).

The lookup uses an in-process multi-index (duplicates/hash_index.py) of every image's
upright hash and its trimmed one (the picture inside its canvas), kept in step with the
table: rows added since the last pass are read by id. On PostgreSQL a count that
disagrees (deleted images, or rows committed out of id order by another worker) reads it
again; on SQLite rows commit in id order, and a deleted image's hashes left in the index
are harmless, as only images still there are paired.
"""

import logging

import numpy as np
from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import Count, Exists, Max, OuterRef, Q

from core.bulk_reads import values_array
from core.errors import ImageSimError
from duplicates.hash_index import HashIndex
from duplicates.hashing import HASH_BITS, picture_hashes, to_signed, to_unsigned
from duplicates.models import HashPair, ImageHash
from gallery.models import Image
from gallery.storage import StorageUnavailable, file_read

logger = logging.getLogger(__name__)

# Images hashed, and hashes paired, per pass: a thumbnail is read and hashed in a few
# milliseconds, a lookup takes about one at a million hashes.
BATCH = 256
# An image's hashes, as duplicates.hashing.picture_hashes makes them; each is looked up.
VARIANT_FIELDS = ("upright", "turned_left", "turned_right", "mirrored", "trimmed")
# Those the index holds: a copy's upright or trimmed hash finds the other's.
INDEXED_FIELDS = ("upright", "trimmed")


def hash_score(distance: int) -> float:
    """What thresholds compare for a hash pair: the share of equal bits (1 - d / 64), so
    a threshold from the floor up keeps the closest pairs, as for the vectors."""
    return 1.0 - distance / HASH_BITS


def hashes_pass(*, limit: int = BATCH) -> int:
    """Hash up to ``limit`` images without a hash, then pair up to ``limit`` new hashes;
    return how many of both (0 when there is nothing left to do)."""
    return images_hash(limit=limit) + hashes_pair(limit=limit)


def hashes_warm() -> None:
    """Read every hash into the index, and find where the images without one start,
    ahead of the first pass after a start (features.jobs.stages.stages_warm)."""
    hash_index()
    if connection.vendor == "sqlite" and _hashed_upto is None:
        newest = Image.all_objects.aggregate(newest=Max("id"))["newest"]
        _hashed_upto_move(newest, images_without_hash().order_by("id")
                          .values_list("id", flat=True).first())


def hashes_state() -> tuple:
    """Changes whenever the hash stage may have work: an image is added (the newest id),
    or one with a hash waiting to be paired comes back from the trash."""
    newest = Image.all_objects.aggregate(newest=Max("id"))["newest"]
    return newest, _waiting_pairing().count()


def hashes_trashed(sender, image_ids, **kwargs) -> None:
    """Images moved to the trash (gallery's images_trashing, in its transaction) leave
    their hash pairs, so their groups, at once. Their hashes stay, marked unpaired: an
    image restored is paired again, and one trashed before it was hashed is hashed too."""
    HashPair.objects.filter(Q(first_id__in=image_ids) | Q(second_id__in=image_ids)).delete()
    ImageHash.objects.filter(image_id__in=image_ids).update(paired=False)


def images_without_hash():
    """Images (in the trash too) without a hash; on SQLite, once a pass (or the read-ahead
    at a start) found where they start, only among those from there."""
    images = Image.all_objects.all()
    if _hashed_upto is not None:
        images = images.filter(pk__gt=_hashed_upto)
    return images.filter(~Exists(ImageHash.objects.filter(image_id=OuterRef("pk"))))


def _waiting_pairing():
    """Hashes not paired yet, of images not in the trash."""
    return ImageHash.objects.filter(paired=False, image__trashed_at__isnull=True)


# Every image up to this id has a hash, as the last pass saw it. Image
# ids only grow on SQLite (AUTOINCREMENT, one writer at a time), so later passes look
# only past it, not at a million images after every batch. None: look at every image
# (after a start, and on PostgreSQL, where ids can commit out of order).
_hashed_upto: int | None = None


def _hashed_upto_move(newest: int | None, first: int | None) -> None:
    """On SQLite: every image before ``first`` (the first found without a hash; None: none
    up to ``newest``, the newest id read before looking) has a hash."""
    global _hashed_upto
    if connection.vendor == "sqlite":
        _hashed_upto = newest if first is None else max(_hashed_upto or 0, first - 1)


def images_hash(*, limit: int = BATCH) -> int:
    """Hash up to ``limit`` images that have no hash; return how many were stored. A plain
    or unreadable thumbnail stores a row without hashes (not tried again); a store that
    does not answer ends the pass, and the images are tried at the next."""
    newest = Image.all_objects.aggregate(newest=Max("id"))["newest"]
    images = list(images_without_hash().order_by("id").only("pk", "thumbnail", "filename")
                  [:limit])
    _hashed_upto_move(newest, images[0].pk if images else None)
    if not images:
        return 0
    rows = []
    for image in images:
        hashes = [None] * len(VARIANT_FIELDS)  # plain or unreadable: no hash
        try:
            found = picture_hashes(file_read(image.thumbnail.name))
        except StorageUnavailable as exc:
            logger.warning("The store did not answer for hashes: %s", exc)
            break
        except (OSError, ValueError, ImageSimError) as exc:
            logger.warning("Could not hash the thumbnail of %s: %s", image.filename, exc)
        else:
            if found is not None:
                hashes = [None if value is None else to_signed(value) for value in found]
        rows.append(ImageHash(image_id=image.pk, **dict(zip(VARIANT_FIELDS, hashes))))
    with transaction.atomic():
        # Images deleted meanwhile get no row (their ids are checked in this transaction).
        present = set(Image.all_objects.filter(pk__in=[row.image_id for row in rows])
                      .values_list("pk", flat=True))
        ImageHash.objects.bulk_create([row for row in rows if row.image_id in present],
                                      ignore_conflicts=True)
    return len(rows)


def hashes_pair(*, limit: int = BATCH) -> int:
    """Store the pairs of up to ``limit`` unpaired hashes; return how many were paired."""
    distance = int(settings.DUPLICATE_HASH_DISTANCE)
    if distance < 0:
        return 0  # the hash signal is off: hashes wait, unpaired, until it is on
    new = list(_waiting_pairing().order_by("id")
               .values_list("id", "image_id", *VARIANT_FIELDS)[:limit])
    if not new:
        return 0
    pairs: dict[tuple[int, int], int] = {}
    index = hash_index()
    for _, image, *variants in new:
        if variants[0] is None:
            continue
        for variant in variants:
            if variant is None:
                continue  # nothing trimmed
            for other, bits in index.within(to_unsigned(variant), distance):
                if other != image:
                    key = (min(image, other), max(image, other))
                    pairs[key] = min(bits, pairs.get(key, HASH_BITS))
    try:
        with transaction.atomic():
            involved = {image for pair in pairs for image in pair}
            present = set(Image.objects.filter(pk__in=involved).values_list("pk", flat=True))
            HashPair.objects.bulk_create(
                [HashPair(first_id=a, second_id=b, distance=bits, score=hash_score(bits))
                 for (a, b), bits in sorted(pairs.items()) if a in present and b in present],
                batch_size=1000, ignore_conflicts=True)
            ImageHash.objects.filter(pk__in=[row[0] for row in new]).update(paired=True)
    except IntegrityError:
        # An image went away between the check and the commit: its hash is paired again
        # at the next pass, without it.
        logger.info("An image went away while its hash pairs were stored; again next pass")
        hashes_forget()
        return 0
    return len(new)


class _SyncedIndex:
    def __init__(self):
        self.index = HashIndex()
        self.last_id = 0


_synced: _SyncedIndex | None = None


def hash_index() -> HashIndex:
    """Every committed upright and trimmed hash, keyed by image id."""
    global _synced, _hashed_upto
    stored = ImageHash.objects.filter(upright__isnull=False)
    if _synced is not None:
        for row_id, image, *values in (stored.filter(id__gt=_synced.last_id).order_by("id")
                                       .values_list("id", "image_id", *INDEXED_FIELDS)):
            for value in values:
                if value is not None:
                    _synced.index.add(image, to_unsigned(value))
            _synced.last_id = row_id
        if connection.vendor == "sqlite":
            # Rows commit in id order here, and are only ever deleted with their image,
            # which the pairing leaves out (it pairs only images still there): no count
            # of a million hashes after every batch. Only a table whose newest row is
            # older than the index's (the database replaced under the worker, or the
            # newest image purged) is read again.
            newest = ImageHash.objects.aggregate(newest=Max("id"))["newest"] or 0
            if newest >= _synced.last_id:
                return _synced.index
            _hashed_upto = None
        else:
            counts = stored.aggregate(**{field: Count(field) for field in INDEXED_FIELDS})
            if len(_synced.index) == sum(counts.values()):
                return _synced.index
    synced = _SyncedIndex()
    # Up to the newest row now: rows committed meanwhile are read at the next lookup.
    synced.last_id = stored.aggregate(newest=Max("id"))["newest"] or 0
    keys, hashes = [], []
    for field in INDEXED_FIELDS:
        rows = values_array(stored.filter(id__lte=synced.last_id, **{f"{field}__isnull": False})
                            .values_list("image_id", field))
        keys.append(rows[:, 0])
        hashes.append(rows[:, 1].view(np.uint64))  # the signed column's bits, unsigned
    synced.index = HashIndex(np.concatenate(keys), np.concatenate(hashes))
    _synced = synced
    return synced.index


def hashes_forget() -> None:
    """Read the hashes again at the next lookup, and look at every image for ones without
    a hash (tests: ids are reused after a rollback)."""
    global _synced, _hashed_upto
    _synced, _hashed_upto = None, None
