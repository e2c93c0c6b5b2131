"""Batch extraction, shared by the worker, precompute_originals and evaluate.

Three steps that return values: ``prepare`` reads and decodes one image (in a
thread; a failure becomes a reason, never an exception), ``infer_prepared`` runs
one batch through the model (one image at a time if the batch fails), and
``extract_batches`` chains them over a known list, decoding the next batch while
the model runs the current one.
"""

import logging
from collections.abc import Callable, Hashable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np
from django.conf import settings

from core.errors import ImageSimError, Unavailable
from features.extractors.base import Extractor

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Prepared:
    key: Hashable
    array: np.ndarray | None = None
    reason: str = ""


@dataclass(frozen=True)
class BatchResult:
    keys: list[Hashable]
    vectors: dict[Hashable, np.ndarray]  # by key, for the images that worked
    failures: dict[Hashable, str]  # why, by key, for the others


def prepare(key: Hashable, read: Callable[[], bytes], extractor: Extractor) -> Prepared:
    """Read and preprocess one image."""
    try:
        data = read()
    except FileNotFoundError:
        return Prepared(key, reason="The image file is missing from storage.")
    except OSError as exc:  # its words (a path, a bucket) go to the log only
        logger.warning("Image %s cannot be read: %s", key, exc)
        return Prepared(key, reason="The image file cannot be read from storage.")
    try:
        return Prepared(key, array=extractor.preprocess(data))
    except ImageSimError as exc:
        return Prepared(key, reason=exc.message)
    except Exception:  # a decoder bug must not stop the others
        logger.exception("Image %s could not be decoded", key)
        return Prepared(key, reason="The image could not be decoded.")


def infer_prepared(prepared: list[Prepared], extractor: Extractor) -> BatchResult:
    """Run the decoded images of a batch through the model."""
    keys = [p.key for p in prepared]
    failures = {p.key: p.reason for p in prepared if p.array is None}
    ready = [p for p in prepared if p.array is not None]
    if not ready:
        return BatchResult(keys, {}, failures)
    try:
        rows = extractor.infer(np.stack([p.array for p in ready]))
        return BatchResult(keys, {p.key: row for p, row in zip(ready, rows)}, failures)
    except Unavailable:
        raise
    except Exception:
        logger.exception("A batch failed; trying its images one at a time")
    vectors = {}
    for p in ready:
        try:
            vectors[p.key] = extractor.infer(p.array[None])[0]
        except Exception:
            logger.exception("The model could not process image %s", p.key)
            failures[p.key] = "The model could not process this image."
    return BatchResult(keys, vectors, failures)


def model_load_ahead(extractor: Extractor, *, batch_size: int | None = None) -> Future:
    """Load and warm the model in a thread while the caller does other work (importing
    files, say): importing TensorFlow and building the model take seconds of mostly one
    core. ``result()`` raises what loading raised (Unavailable without weights)."""
    batch_size = batch_size or settings.FEATURE_BATCH_SIZE
    pool = ThreadPoolExecutor(1, thread_name_prefix="model-load")
    future = pool.submit(extractor.warm_up, batch_size)
    pool.shutdown(wait=False)
    return future


def extract_batches(extractor: Extractor, items: Sequence[tuple[Hashable, Callable[[], bytes]]],
                    *, batch_size: int | None = None) -> Iterator[BatchResult]:
    """Extract ``(key, read)`` items batch by batch; the model must be loaded."""
    batch_size = batch_size or settings.FEATURE_BATCH_SIZE
    batches = [items[start:start + batch_size] for start in range(0, len(items), batch_size)]
    with ThreadPoolExecutor(max(1, settings.FEATURE_DECODE_THREADS),
                            thread_name_prefix="feature-decode") as pool:
        def submit(batch):
            return [pool.submit(prepare, key, read, extractor) for key, read in batch]

        pending = submit(batches[0]) if batches else []
        for number in range(len(batches)):
            following = submit(batches[number + 1]) if number + 1 < len(batches) else []
            yield infer_prepared([future.result() for future in pending], extractor)
            pending = following
