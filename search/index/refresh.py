"""Writing the machine's index snapshot: the feature worker's part (one writer per folder).

``snapshot_refresh`` is cheap when there is nothing to do. It writes a new generation
when enough vectors changed since the current one (SNAPSHOT_CHANGES, or a hundredth of
the library), or when a thousandth did and the snapshot is older than SNAPSHOT_MAX_AGE; with
SEARCH_INDEX=auto the first snapshot waits until the library reaches
SEARCH_INDEX_AUTO_SIZE vectors (below that the exact index serves).

A new generation is mostly the previous one: its rows, vectors and codes are carried over,
less the rows the change log names since, and those rows are read from the database and
encoded afresh (``_carry``). The first generation, or one after a quarter of the rows
changed, streams every row from the database in id order instead (each vector as stored,
half precision, to a file, a block at a time, so memory stays flat). Training (IVF
centroids and the 8-bit ranges, on a sample of the rows) happens only for the first
snapshot and when the library has grown FOUR_FOLD since the last training; then every
row is encoded again. The position written into the manifest is
the change-log id read *before* the rows: a row written while they are read has a
later log entry, so readers take it from the database themselves.

The log must keep the entries past the oldest generation on disk, or a process that
starts later could not tell what changed since. So the writer, and every process that
searches a snapshot, holds a place among the log's readers (search/changelog.py) at that
generation's position (``snapshot_pin``).
"""

import logging
import os
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from django.conf import settings
from django.db import connection
from django.utils import timezone

from core.vectors import normalise
from search.changelog import log_bounds
from features.models import FeatureVector
from search.index.approximate import index_root
from search.index.bounds import codes_add
from search.index.exact import ID_CHUNK, _rows
from search.index.snapshot import (FORMAT, database_identity, file_name, leftovers_remove,
                                   manifest_current, manifest_publish, manifest_read, manifests,
                                   publish, snapshot_folder, snapshot_open, snapshot_pin,
                                   snapshot_pins_forget, temporary, writer_lock)
from search.models import VectorChange

logger = logging.getLogger(__name__)

SNAPSHOT_CHANGES = 2000
SNAPSHOT_MAX_AGE = 600.0
# An old snapshot is written again once this share of the library changed (a thousandth):
# at a million, even a carried-over write takes 15 to 20 s of the worker's time, which a
# few new photos in the delta (searched exactly) do not need.
AGED_SHARE = 1000
FOUR_FOLD = 4
# Rows read from the database, and added to the index, at once.
BLOCK = 5000
# A new generation carries the previous one's rows and codes over (reading only the rows
# changed since) unless more than a quarter of it changed: at a million rows that write
# takes 15 to 20 s, against 100 to 165 s for reading and encoding every row again.
CARRY_SHARE = 4
# Training sample: enough points per IVF list for k-means, and a bound on the time.
TRAIN_PER_LIST = 64
TRAIN_MAX = 131_072
PCA_DIM = 512
# Rows the projection is trained on (and their mirror images): plenty for 512 directions.
PCA_SAMPLE = 32_768


def snapshot_due(*, extractor: str, column: str = "searchable") -> bool:
    """Whether a new generation is due (see the module notes): a few cheap reads."""
    if connection.vendor != "sqlite" or settings.SEARCH_INDEX == "exact":
        return False
    folder = snapshot_folder(index_root(), extractor=extractor, column=column)
    current = manifest_current(folder)
    first, latest = log_bounds()
    if current is not None:
        snapshot_pin(folder, extractor=extractor, column=column)
    return _due(current, extractor, first, latest)


def snapshot_refresh(*, extractor: str, column: str = "searchable", force: bool = False) -> int:
    """Write a new snapshot generation if one is due; return the rows written (0: none due).

    ``force`` writes one whatever the count of changes (tests, the benchmark). The
    worker calls it on a thread of its own (search/index/writer.py).
    """
    if connection.vendor != "sqlite" or settings.SEARCH_INDEX == "exact":
        return 0
    if not force and not snapshot_due(extractor=extractor, column=column):
        return 0
    folder = snapshot_folder(index_root(), extractor=extractor, column=column)
    latest = log_bounds()[1]
    with writer_lock(folder) as mine:
        if not mine:
            return 0  # another worker of this machine is writing it
        return snapshot_write(folder, extractor=extractor, column=column, latest=latest)


def _due(current: dict | None, extractor: str, first: int, latest: int) -> bool:
    if current is None:
        count = FeatureVector.objects.filter(extractor=extractor).count()
        if count == 0:
            return False
        return settings.SEARCH_INDEX == "approximate" or count >= settings.SEARCH_INDEX_AUTO_SIZE
    if current["covers"] > latest or current.get("database") != _database():
        return True  # the log was reset, or the database replaced: the snapshot is stale
    if first > current["covers"] + 1:
        # The log no longer reaches back to it (its place was forgotten): no process can
        # tell what changed since, and each would read every vector instead.
        return True
    changes = VectorChange.objects.filter(id__gt=current["covers"], extractor=extractor).count()
    if changes == 0:
        return False
    age = time.time() - current["written_at"]
    return changes >= max(SNAPSHOT_CHANGES, current["count"] // 100) or (
        age >= SNAPSHOT_MAX_AGE and changes >= current["count"] // AGED_SHARE)


def snapshot_write(folder: Path, *, extractor: str, column: str, latest: int) -> int:
    """Write one generation (the caller holds the writer lock); return its row count."""
    import faiss

    started = time.monotonic()
    previous = manifest_current(folder)
    generation = max([g for g, _ in manifests(folder)], default=0) + 1
    leftovers_remove(folder, keep=_kept_files(folder, previous))
    vectors_path = temporary(folder, file_name("vectors", generation))
    carried = _carry(folder, previous, extractor=extractor, column=column, latest=latest,
                     path=vectors_path)
    if carried is None:
        keys, items, flags, dim = _stream(extractor, column, vectors_path)
    else:
        keys, items, flags, dim = carried.keys, carried.items, carried.flags, carried.dim
    count = len(keys)
    if count == 0:
        vectors_path.unlink()
        return 0
    vectors = np.memmap(vectors_path, dtype=np.float16, mode="r", shape=(count, dim))
    # One thread: OpenMP's spinning threads crawl on a busy small machine (and a process
    # forked after they ran can hang); the build is background work.
    faiss.omp_set_num_threads(1)
    index, training = _trained(folder, previous, vectors, generation)
    if carried is not None and training["file"] == previous["training"]["file"]:
        errors = carried.codes_add(index)
    else:
        errors = np.concatenate([codes_add(index, vectors[start:start + BLOCK])
                                 for start in range(0, count, BLOCK)])
    del vectors, carried

    names = {"index": file_name("index", generation), "vectors": file_name("vectors", generation),
             "rows": file_name("rows", generation), "error": file_name("error", generation),
             "trained": training["file"]}
    files = {names["vectors"]: publish(vectors_path, names["vectors"])}
    index_path = temporary(folder, names["index"])
    faiss.write_index(index, str(index_path))
    files[names["index"]] = publish(index_path, names["index"])
    rows_path = temporary(folder, names["rows"])
    with open(rows_path, "wb") as handle:
        np.save(handle, np.stack([keys, items, flags.astype(np.int64)], axis=1))
    files[names["rows"]] = publish(rows_path, names["rows"])
    error_path = temporary(folder, names["error"])
    with open(error_path, "wb") as handle:
        np.save(handle, errors)
    files[names["error"]] = publish(error_path, names["error"])
    files[names["trained"]] = os.path.getsize(folder / names["trained"])
    manifest = {
        "format": FORMAT, "generation": generation, "covers": latest, "extractor": extractor,
        "database": _database(),
        "column": column, "count": count, "dim": dim, "names": names, "files": files,
        "training": training, "written_at": time.time(),
        "error_most": [float(errors[:, 0].max()), float(errors[:, 1].max())],
        "written": timezone.now().isoformat(), "seconds": round(time.monotonic() - started, 1),
    }
    manifest_publish(folder, manifest)
    leftovers_remove(folder, keep=_kept_files(folder, manifest, previous))
    snapshot_pin(folder, extractor=extractor, column=column, force=True)
    logger.info("Index snapshot %d written: %d vectors in %.1f s", generation, count,
                manifest["seconds"])
    return count


def _database() -> str:
    return database_identity(connection.settings_dict["NAME"])


def _stream(extractor: str, column: str, path: Path):
    """Write every row's vector as stored (float16) to ``path``; return ids, image ids,
    flags, dim."""
    keys, items, flags, dim = [], [], [], 0
    with open(path, "wb") as handle:
        block = []
        rows = _rows(extractor, column).order_by("id").iterator(chunk_size=BLOCK)
        for row in rows:
            if dim == 0:
                dim = len(row[3])
            if len(row[3]) != dim:
                continue
            block.append(row)
            if len(block) == BLOCK:
                _write_block(handle, block, keys, items, flags)
                block = []
        _write_block(handle, block, keys, items, flags)
    return (np.asarray(keys, dtype=np.int64), np.asarray(items, dtype=np.int64),
            np.asarray(flags, dtype=bool), dim)


@dataclass
class _Carried:
    """A generation's rows made from the previous one's and the rows changed since."""

    keys: np.ndarray  # vector ids, ascending
    items: np.ndarray
    flags: np.ndarray
    dim: int
    # Per row: its row in the previous generation, or -1 - its place among ``fresh``.
    sources: np.ndarray
    previous: object  # the previous generation, opened (search/index/snapshot.py)
    fresh: np.ndarray  # the changed rows' vectors as stored (float16)

    def codes_add(self, index) -> np.ndarray:
        """Fill ``index`` (trained as the previous one was): the rows carried over keep
        their codes, moved to their new row numbers; the fresh rows are encoded. Return
        every row's code errors (search/index/bounds.py)."""
        import faiss

        lists = faiss.extract_index_ivf(index)
        before = faiss.extract_index_ivf(self.previous.index)
        carried = self.sources >= 0
        row_now = np.full(self.previous.size, -1, dtype=np.int64)
        row_now[self.sources[carried]] = np.flatnonzero(carried)
        for number in range(before.nlist):
            size = before.invlists.list_size(number)
            if size == 0:
                continue
            ids = row_now[faiss.rev_swig_ptr(before.invlists.get_ids(number), size)]
            codes = faiss.rev_swig_ptr(before.invlists.get_codes(number),
                                       size * before.code_size).reshape(size, -1)
            kept = ids >= 0
            if kept.any():
                ids, codes = np.ascontiguousarray(ids[kept]), np.ascontiguousarray(codes[kept])
                lists.invlists.add_entries(number, len(ids), faiss.swig_ptr(ids),
                                           faiss.swig_ptr(codes))
        errors = np.empty((len(self.sources), 3), dtype=np.float32)
        errors[carried] = self.previous.errors[self.sources[carried]]
        fresh_rows = np.flatnonzero(~carried)
        if fresh_rows.size:
            errors[fresh_rows] = codes_add(index, self.fresh[-1 - self.sources[fresh_rows]],
                                           fresh_rows)
        lists.ntotal = index.ntotal = len(self.sources)
        return errors


def _carry(folder: Path, previous: dict | None, *, extractor: str, column: str, latest: int,
           path: Path) -> _Carried | None:
    """The previous generation's rows with the changes since applied (the log's entries
    past its position), their vectors written to ``path``: only the changed rows are read
    from the database. None where it cannot be carried over (none, another database or
    format, the log no longer reaching back to it) or where a CARRY_SHARE of it changed."""
    if (previous is None or previous.get("format") != FORMAT or "error" not in previous["names"]
            or previous.get("database") != _database() or previous["covers"] > latest
            or log_bounds()[0] > previous["covers"] + 1):
        return None
    changed = np.asarray(sorted(set(
        VectorChange.objects.filter(extractor=extractor, id__gt=previous["covers"], id__lte=latest)
        .values_list("vector_id", flat=True).iterator(chunk_size=10_000))), dtype=np.int64)
    if len(changed) > previous["count"] // CARRY_SHARE:
        return None
    before = snapshot_open(folder, previous, read_ahead="none")
    dim = previous["dim"]
    rows = [row for start in range(0, len(changed), ID_CHUNK)
            for row in _rows(extractor, column).filter(
                id__in=changed[start:start + ID_CHUNK].tolist()).order_by("id")
            if len(row[3]) == dim]
    carried = np.ones(before.size, dtype=bool)
    carried[before.rows_of_keys(changed)] = False
    carried = np.flatnonzero(carried)
    keys = np.concatenate([before.keys[carried], np.asarray([r[0] for r in rows], dtype=np.int64)])
    order = np.argsort(keys, kind="stable")
    sources = np.concatenate([carried, -1 - np.arange(len(rows), dtype=np.int64)])[order]
    items = np.concatenate([before.items[carried], np.asarray([r[1] for r in rows],
                                                              dtype=np.int64)])
    flags = np.concatenate([before.flags[carried], np.asarray([r[2] for r in rows], dtype=bool)])
    fresh = (np.stack([r[3] for r in rows]).astype(np.float16) if rows
             else np.zeros((0, dim), dtype=np.float16))
    with open(path, "wb") as handle:
        for start in range(0, len(sources), BLOCK):
            part = sources[start:start + BLOCK]
            block = np.empty((len(part), dim), dtype=np.float16)
            block[part >= 0] = before.vectors[part[part >= 0]]
            block[part < 0] = fresh[-1 - part[part < 0]]
            handle.write(block.tobytes())
    return _Carried(keys=keys[order], items=items[order], flags=flags[order], dim=dim,
                    sources=sources, previous=before, fresh=fresh)


def _write_block(handle, block, keys, items, flags) -> None:
    if not block:
        return
    ids, image_ids, originals, vectors = zip(*block)
    # SQLite keeps half precision (features/fields.py): this copy loses nothing, and a
    # row normalised from it is the very vector the exact index compares.
    handle.write(np.stack(vectors).astype(np.float16).tobytes())
    keys.extend(ids)
    items.extend(image_ids)
    flags.extend(originals)


def factory_for(dim: int, lists: int, rows: int) -> str:
    """The faiss index: long vectors are first projected on their PCA_DIM principal
    directions about the origin (4x less to scan for 2048-d ResNet vectors), then sorted
    into IVF lists and stored as 8-bit codes."""
    if _projected(dim, rows):
        return f"PCA{PCA_DIM}-uncentred,IVF{lists},SQ8"
    return f"IVF{lists},SQ8"


def _projected(dim: int, rows: int) -> bool:
    """Whether vectors are projected first: long ones, once the training sample has as many
    rows as dimensions (faiss finds no PCA_DIM directions in fewer: a small library
    searched approximately on request, SEARCH_INDEX=approximate, is trained without)."""
    return dim >= 2 * PCA_DIM and rows >= dim


def _index_trained(dim: int, lists: int, sample: np.ndarray):
    """A trained, empty index (``factory_for``) for unit vectors like ``sample``.

    The projection is not centred: faiss's PCA subtracts the vectors' mean, and ResNet's
    non-negative features share a large one, so a centred code's inner product strays far
    from the cosine (by up to 0.7 on the benchmark's library) and ranks rows by their
    distance from the mean as much as by their likeness to the query. Trained on the
    sample and its mirror image (whose mean is zero), the directions are those of the
    vectors themselves, the first of them their common direction, and a code's inner
    product stays close to the cosine: the worker's neighbour queries bound their search
    by it (search/index/neighbours.py).
    """
    import faiss

    projected = _projected(dim, len(sample))
    ivf = faiss.index_factory(PCA_DIM if projected else dim, f"IVF{lists},SQ8",
                              faiss.METRIC_INNER_PRODUCT)
    ivf.cp.max_points_per_centroid = TRAIN_PER_LIST * 4
    if not projected:
        ivf.train(sample)
        return ivf
    pca = faiss.PCAMatrix(dim, PCA_DIM)
    mirror = sample[:PCA_SAMPLE]
    pca.train(np.concatenate([mirror, -mirror]))
    ivf.train(pca.apply(sample))
    # Through a copy: the index read back owns both parts.
    return faiss.deserialize_index(faiss.serialize_index(faiss.IndexPreTransform(pca, ivf)))


def _lists_for(count: int) -> int:
    """IVF lists: about 2 x sqrt(n), a power of two, at least 1 and at most n / 32."""
    lists = 2 ** round(np.log2(max(1.0, 2 * np.sqrt(count))))
    return int(max(1, min(lists, count // 32)))


def _trained(folder: Path, previous: dict | None, vectors: np.ndarray, generation: int):
    """An empty trained index (the previous training when still good) and its description."""
    import faiss

    count, dim = vectors.shape
    if previous is not None and previous["dim"] == dim:
        training = previous["training"]
        if count < FOUR_FOLD * training["rows"] and (folder / training["file"]).exists():
            return faiss.read_index(str(folder / training["file"])), training
    lists = _lists_for(count)
    sample_size = min(count, TRAIN_MAX, max(lists * TRAIN_PER_LIST, 10_000))
    chosen = np.sort(np.random.default_rng(generation).choice(count, sample_size, replace=False))
    sample = normalise(vectors[chosen])
    started = time.monotonic()
    index = _index_trained(dim, lists, sample)
    name = file_name("trained", generation)
    path = temporary(folder, name)
    faiss.write_index(index, str(path))
    publish(path, name)
    training = {"file": name, "rows": count, "lists": lists, "sample": sample_size,
                "factory": factory_for(dim, lists, sample_size),
                "seconds": round(time.monotonic() - started, 1)}
    return index, training


def _kept_files(folder: Path, *manifests_kept: dict | None) -> set[str]:
    """Files of the current and previous generations (and their manifests)."""
    kept = {"write.lock"}
    found = [m for m in manifests_kept if m is not None]
    # The generation before the newest kept one stays too: a reader falls back to it.
    for generation, path in manifests(folder):
        if len(found) >= 2:
            break
        manifest = manifest_read(path)
        if manifest is not None and all(manifest["generation"] != m["generation"] for m in found):
            found.append(manifest)
    for manifest in found[:2]:
        kept.update(manifest["files"])
        kept.add(f"manifest-{manifest['generation']:08d}.json")
    return kept


def snapshot_forget() -> None:
    """Forget when the log was last pinned (tests: the database is new for each)."""
    snapshot_pins_forget()

