"""Index snapshots on disk: written atomically by one writer, opened memory-mapped by all.

A snapshot is one generation of files in a folder of its own (one per column and
extractor), named by a generation number:

- ``snapshot-<gen>.faiss``: the approximate index (faiss: PCA to 512 dimensions for long
  vectors, IVF lists, 8-bit codes; search/index/refresh.py), whose ids are row numbers;
- ``snapshot-<gen>.f16``: every row's vector as the database stores it (half precision);
  normalised when read, it is exactly the vector the exact index compares, so the
  candidates' scores are exact cosine without reading the database;
- ``snapshot-<gen>.rows.npy``: per row the vector id (ascending), the image id and
  ``is_original`` (int64, n x 3);
- ``snapshot-<gen>.error.npy``: per row how far its codes can score from the exact
  cosine, and the length of its stored vector (float32, n x 3; search/index/bounds.py);
- ``manifest-<gen>.json``: what the files hold (the vector-change id they cover, the
  extractor, the column, the row count, the training) and each file's size.

Every file is written under a temporary name in the same folder, flushed to disk and
renamed into place (``os.replace``, atomic); the manifest goes last. A reader opens the
newest generation whose manifest parses and whose files all exist at their recorded
sizes, so a write torn by a crash (a temporary file, a manifest naming files that never
arrived) is never opened: the generation before it is. The writer keeps the previous
generation beside the current one for that, and removes older ones; a process still
reading a removed file keeps its mapping (POSIX keeps an unlinked file's pages).

The trained, empty index (``trained-<gen>.faiss``) is kept too, so a rewrite adds the
rows to it without training again.

faiss runs its own OpenMP threads. A process that forks after they ran can hang in the
child, so an index is opened after any fork, and searches run on the calling thread
only (``faiss.omp_set_num_threads(1)`` before each).

The rows a search re-checks are asked of the disk all at once before they are read
(``madvise``), so rows not in the page cache cost disk reads side by side, not one after
another. The faiss file, read by every search, is read into the page cache when a
snapshot is opened (in the background), and for searches so is the vectors' file where it
takes at most half the memory available (3.8 GB at a million; a container's memory
limit counts, core/limits.py): until they are in the page cache, a search's p99 is its
disk reads (README). The worker's plain snapshot reads only its
faiss file ahead (``snapshot_open``'s ``read_ahead``). The vectors' file keeps
the kernel's readahead around each row: rows written together (one event's photos) are
often searched together.
"""

import fcntl
import hashlib
import json
import logging
import mmap
import os
import re
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from django.utils import timezone

from core.limits import memory_available
from core.vectors import normalise
from search.changelog import FILE_READER_PREFIX
from search.models import IndexReader

logger = logging.getLogger(__name__)

MANIFEST = re.compile(r"^manifest-(\d{8})\.json$")
FORMAT = 3
# Snapshots of format 2 (no error file) are still opened: their codes' error is bounded
# by a constant (search/index/neighbours.py) until the worker writes a new one.
FORMATS = (2, 3)


def snapshot_folder(root: Path, *, extractor: str, column: str) -> Path:
    """The folder of one extractor's snapshots of one column (a short, safe name)."""
    digest = hashlib.sha256(f"{column}\0{extractor}".encode()).hexdigest()[:16]
    return Path(root) / f"{column}-{digest}"


def database_identity(path: str) -> str:
    """Which SQLite file a snapshot was made from (device and inode): a database made
    again, or restored from a backup, never opens another's snapshot."""
    try:
        stat = os.stat(path)
    except OSError:
        return ""
    return f"{stat.st_dev}:{stat.st_ino}"


def file_name(kind: str, generation: int) -> str:
    return {"index": f"snapshot-{generation:08d}.faiss",
            "vectors": f"snapshot-{generation:08d}.f16",
            "rows": f"snapshot-{generation:08d}.rows.npy",
            "error": f"snapshot-{generation:08d}.error.npy",
            "trained": f"trained-{generation:08d}.faiss"}[kind]


def manifests(folder: Path) -> list[tuple[int, Path]]:
    """(generation, manifest path), newest first."""
    try:
        names = os.listdir(folder)
    except FileNotFoundError:
        return []
    found = [(int(m.group(1)), Path(folder) / name) for name in names
             if (m := MANIFEST.match(name))]
    return sorted(found, reverse=True)


def manifest_read(path: Path) -> dict | None:
    """The manifest if it is whole and every file it names is there at its size, else None."""
    try:
        manifest = json.loads(Path(path).read_text())
        if manifest.get("format") not in FORMATS:
            return None
        for name, size in manifest["files"].items():
            if os.path.getsize(Path(path).parent / name) != size:
                return None
        return manifest
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None


def manifest_current(folder: Path) -> dict | None:
    """The newest usable manifest of a folder (a torn newer one is passed over)."""
    for generation, path in manifests(folder):
        manifest = manifest_read(path)
        if manifest is not None:
            return manifest
        logger.warning("Index snapshot %s is incomplete; using an earlier one", path)
    return None


@dataclass
class Snapshot:
    """One opened generation: the index and the vectors mapped read-only, the rows in memory."""

    manifest: dict
    index: object  # faiss.Index, memory-mapped
    vectors: np.ndarray  # float16 (n, dim) as stored, memory-mapped; ``unit_rows`` normalises
    keys: np.ndarray  # vector ids, ascending
    items: np.ndarray  # image ids
    flags: np.ndarray  # is_original
    mapping: mmap.mmap | None = None  # the vectors' file
    errors: np.ndarray | None = None  # search/index/bounds.py, mapped
    projection: object = None  # faiss.PCAMatrix before the IVF lists, if any
    by_item: np.ndarray | None = None  # rows in image-id order (made on first use)

    @property
    def generation(self) -> int:
        return self.manifest["generation"]

    @property
    def covers(self) -> int:
        return self.manifest["covers"]

    @property
    def size(self) -> int:
        return len(self.keys)

    def unit_rows(self, rows) -> np.ndarray:
        """These rows' unit vectors (float32), as the exact index holds them."""
        rows = np.asarray(rows, dtype=np.int64)
        self.rows_ask(rows)
        return normalise(self.vectors[rows])

    def rows_ask(self, rows: np.ndarray) -> None:
        """Ask the disk for every page of these rows at once (a no-op for cached ones): one
        request per run of adjacent rows (photos written together often come up together)."""
        if self.mapping is None or rows.size < 2:
            return
        width = self.vectors.shape[1] * 2
        rows = np.unique(rows)
        apart = np.flatnonzero(np.diff(rows) > 1)
        for first, last in zip(rows[np.r_[0, apart + 1]].tolist(),
                               rows[np.r_[apart, rows.size - 1]].tolist()):
            start = first * width - (first * width) % mmap.PAGESIZE
            self.mapping.madvise(mmap.MADV_WILLNEED, start, (last + 1) * width - start)

    def rows_of_keys(self, keys) -> np.ndarray:
        """The rows holding these vector ids (ids not in the snapshot are left out)."""
        return positions_of(self.keys, list(keys))

    def rows_of_items(self, items) -> np.ndarray:
        """The rows of these image ids (ids not in the snapshot are left out)."""
        if self.by_item is None:
            self.by_item = np.argsort(self.items, kind="stable")
        items = np.asarray(list(items), dtype=np.int64)
        places = np.searchsorted(self.items, items, sorter=self.by_item)
        inside = places < len(self.items)
        rows = self.by_item[places[inside]]
        return rows[self.items[rows] == items[inside]]


def snapshot_open(folder: Path, manifest: dict, *, read_ahead: str = "all") -> Snapshot:
    """Map a snapshot's files; ``read_ahead``: which to read into the page cache in the
    background: "all" for searches (the faiss file, and the vectors' copy where it fits);
    "index" for the feature worker's neighbour queries over the plain vectors (reading
    their copy too while the worker catches up doubled the time its stages took at a
    million: the reads competed with the stages' own); "none" for the writer carrying
    rows over, which reads only a few."""
    import faiss

    folder = Path(folder)
    files = manifest["names"]
    # MMAP_IFC maps the IVF lists' codes in place (plain arrays over the file's pages);
    # faiss's older MMAP flag reads them through OnDiskInvertedLists, whose per-list
    # locking cost 2-3 ms a search whatever the index's size.
    index = faiss.read_index(str(folder / files["index"]),
                             faiss.IO_FLAG_MMAP_IFC | faiss.IO_FLAG_READ_ONLY)
    with open(folder / files["vectors"], "rb") as handle:
        mapping = mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ)
    vectors = np.frombuffer(mapping, dtype=np.float16).reshape(manifest["count"], manifest["dim"])
    rows = np.load(folder / files["rows"])
    # A plain array over the mapping: NumPy's memmap class costs more to index than the
    # rows it returns (an eighth of a duplicates pass at a million).
    errors = (np.asarray(np.load(folder / files["error"], mmap_mode="r")) if "error" in files
              else None)
    projection = (faiss.downcast_VectorTransform(index.chain.at(0))
                  if isinstance(index, faiss.IndexPreTransform) else None)
    if read_ahead != "none":  # after the reads above, which would otherwise wait for it
        copy = folder / files["vectors"] if read_ahead == "all" else None
        threading.Thread(target=_read_ahead, args=(folder / files["index"], copy),
                         name="snapshot-read-ahead", daemon=True).start()
    return Snapshot(manifest=manifest, index=index, vectors=vectors, mapping=mapping,
                    keys=np.ascontiguousarray(rows[:, 0]), items=np.ascontiguousarray(rows[:, 1]),
                    flags=rows[:, 2].astype(bool), errors=errors, projection=projection)


def _read_ahead(index: Path, vectors: Path | None) -> None:
    """Ask the operating system to read the faiss file into its page cache, and the
    vectors' file too where it takes at most half the memory available: every search
    re-checks rows from it, and each one not in the page cache is a disk read."""
    _file_read_ahead(index)
    if vectors is None:
        return
    try:
        fits = vectors.stat().st_size <= memory_available() / 2
    except OSError:
        return  # a generation removed meanwhile
    if fits:
        _file_read_ahead(vectors)


def _file_read_ahead(path: Path) -> None:
    """Asked a chunk at a time, each waited for: Linux reads no more than its readahead
    window for one request (one request for a whole file read 2 MB of it), and with one
    chunk in flight a search's own reads do not queue behind the whole file."""
    try:
        descriptor = os.open(path, os.O_RDONLY)
    except OSError:
        return  # a generation removed meanwhile
    try:
        size = os.fstat(descriptor).st_size
        for number, start in enumerate(range(0, size, READ_AHEAD_CHUNK)):
            if number % 256 == 0 and os.fstat(descriptor).st_nlink == 0:
                return  # the generation was removed: its pages would never be read
            os.posix_fadvise(descriptor, start, READ_AHEAD_CHUNK, os.POSIX_FADV_WILLNEED)
            os.pread(descriptor, 1, min(start + READ_AHEAD_CHUNK, size) - 1)
    finally:
        os.close(descriptor)


# Linux's default readahead window, the least one request reads.
READ_AHEAD_CHUNK = 128 << 10


# ---------------------------------------------------------------- the log kept for them

PIN_EVERY = 30.0
_pinned: dict[str, float] = {}


def snapshot_pin(folder: Path, *, extractor: str, column: str, force: bool = False) -> None:
    """Keep the change log from the oldest generation on disk on: a place among the log's
    readers (search/changelog.py), renewed at most every PIN_EVERY seconds by the writer
    and by every process searching a snapshot. Pruned past it, the log could not tell a
    process started later what changed since the snapshot, and it would read every vector
    instead. So it is kept for days, not minutes, without being renewed
    (FILE_READER_TIMEOUT): a server stopped overnight finds its snapshots usable."""
    name = f"{FILE_READER_PREFIX}{column}:{extractor}"[:200]
    now = time.monotonic()
    if not force and now - _pinned.get(name, -PIN_EVERY) < PIN_EVERY:
        return
    _pinned[name] = now
    kept = [manifest_read(path) for _, path in manifests(folder)]
    covers = [m["covers"] for m in kept if m is not None]
    if covers:
        IndexReader.objects.update_or_create(
            name=name, defaults={"applied": min(covers), "seen_at": timezone.now()})


def snapshot_pins_forget() -> None:
    _pinned.clear()


# ---------------------------------------------------------------- writing

@contextmanager
def writer_lock(folder: Path):
    """Yield True when this process may write the folder's snapshots (one writer at a time)."""
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / "write.lock", "w") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        try:
            yield True
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def temporary(folder: Path, name: str) -> Path:
    return Path(folder) / f".tmp-{os.getpid()}-{name}"


def publish(path: Path, name: str) -> int:
    """Flush a finished temporary file to disk and rename it into place; return its size."""
    with open(path, "rb+") as handle:
        os.fsync(handle.fileno())
    os.replace(path, path.parent / name)
    return os.path.getsize(path.parent / name)


def manifest_publish(folder: Path, manifest: dict) -> None:
    """Write the manifest atomically (the files it names are in place already)."""
    name = f"manifest-{manifest['generation']:08d}.json"
    path = temporary(folder, name)
    path.write_text(json.dumps(manifest, indent=1, sort_keys=True))
    publish(path, name)
    directory = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(directory)  # the renames themselves reach the disk
    finally:
        os.close(directory)


def leftovers_remove(folder: Path, *, keep: set[str]) -> None:
    """Remove temporary files of killed writers and generations no manifest kept names."""
    for name in os.listdir(folder):
        if name == "write.lock" or name in keep:
            continue
        if name.startswith(".tmp-") or name.startswith(("snapshot-", "trained-", "manifest-")):
            try:
                os.unlink(Path(folder) / name)
            except FileNotFoundError:
                pass


def positions_of(sorted_keys: np.ndarray, keys) -> np.ndarray:
    """The positions in ``sorted_keys`` of those of ``keys`` it holds (the others left out)."""
    keys = np.asarray(keys, dtype=np.int64)
    positions = np.searchsorted(sorted_keys, keys)
    inside = positions < sorted_keys.size
    inside[inside] &= sorted_keys[positions[inside]] == keys[inside]
    return positions[inside]
