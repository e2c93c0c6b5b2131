"""Retrieval quality over a labelled folder of images, on a scratch library.

The scratch library lives in memory: the images are read from the folder, their
vectors extracted with an extractor and ranked by the same cosine and re-ranking
maths as the index. Nothing is written to the database or the media
folder, so the user's library stays exactly as it was.
"""

import csv
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from core.errors import InvalidInput
from core.vectors import normalise
from features.extraction import extract_batches
from features.fields import STORED
from search.reranking import Reranking, augment_all, expand, nearest
from search.similarity import EXCLUDED, scores

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Ranking:
    """Retrieval-quality figures over a labelled set (every item a query)."""

    queries: int
    mean_average_precision: float
    precision_at: dict[int, float]
    # mAP of the queries of each label, by label.
    per_label: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class LabelledSet:
    paths: list[Path]
    labels: list[str]


@dataclass(frozen=True)
class Evaluation:
    """One extractor over one labelled set, ranked by each re-ranking asked for."""

    extractor: str
    preset: str
    images: int
    skipped: list[str]
    rankings: dict[Reranking, Ranking]


def read_labels(folder: Path, labels_csv: Path) -> LabelledSet:
    """The images listed in a ``filename,label`` CSV (header optional) that exist in ``folder``."""
    paths, labels = [], []
    with open(labels_csv, newline="", encoding="utf-8") as handle:
        for row in csv.reader(handle):
            if len(row) < 2 or not row[0].strip() or row[0].strip().lower() == "filename":
                continue
            name, label = row[0].strip(), row[1].strip()
            path = folder / name
            if Path(name).name != name or not path.is_file():
                raise InvalidInput(f"{name} is listed in {labels_csv} but not found in {folder}.")
            paths.append(path)
            labels.append(label)
    if len(paths) < 2:
        raise InvalidInput(f"{labels_csv} lists fewer than two images: nothing to evaluate.")
    return LabelledSet(paths, labels)


def extract_set(extractor, labelled: LabelledSet, *, batch_size: int,
                progress: Callable[[int], None] = lambda done: None
                ) -> tuple[np.ndarray, list[str], list[str]]:
    """Vectors of every readable image, its labels, and the names that could not be read."""
    vectors, labels, skipped = [], [], []
    items = [(number, path.read_bytes) for number, path in enumerate(labelled.paths)]
    for batch in extract_batches(extractor, items, batch_size=batch_size):
        for number in batch.keys:
            if number in batch.vectors:
                vectors.append(batch.vectors[number])
                labels.append(labelled.labels[number])
            else:
                name = labelled.paths[number].name
                logger.warning("Skipped %s: %s", name, batch.failures[number])
                skipped.append(name)
        progress(len(batch.keys))
    matrix = np.stack(vectors) if vectors else np.zeros((0, extractor.dim), np.float32)
    # At the precision the library stores them (float16 on SQLite; pgvector's index is
    # over halfvec), so the figures are those of the library's own searches.
    return matrix.astype(STORED).astype(np.float32), labels, skipped


def evaluate_folder(extractor, labelled: LabelledSet, *, rerankings: list[Reranking],
                    batch_size: int = 16, progress: Callable[[int], None] = lambda done: None,
                    on_start: Callable[[int], None] = lambda total: None) -> Evaluation:
    """Extract the set once with ``extractor``, then rank it with each re-ranking."""
    extractor.load()
    on_start(len(labelled.paths))
    vectors, labels, skipped = extract_set(extractor, labelled, batch_size=batch_size,
                                           progress=progress)
    return Evaluation(extractor=extractor.fingerprint, preset=extractor.preset,
                      images=len(labels), skipped=skipped,
                      rankings={reranking: evaluate_ranking(vectors, labels, reranking=reranking)
                                for reranking in rerankings})


def evaluate_ranking(vectors: np.ndarray, labels: list[str], *,
                     reranking: Reranking = Reranking(), cutoffs=(1, 6, 10)) -> Ranking:
    """Every row a query against all the others, as a search by library image is: the
    stored vectors (augmented, if that is on) are the library and the queries; with
    query expansion each query is blended with its first hits and searched again.
    Relevant means the same label. Queries whose label has no other member are left
    out (nothing to find)."""
    library = normalise(vectors)
    ids = np.arange(len(library))
    if reranking.augment_neighbours:
        library = augment_all(library, ids, reranking.augment_neighbours, reranking.alpha,
                              reranking.floor)[0]
    labels_array = np.asarray(labels)
    average_precisions, precisions = [], {cutoff: [] for cutoff in cutoffs}
    by_label: dict[str, list[float]] = {}
    for index in range(len(labels_array)):
        found = scores(library, library[index])
        found[index] = EXCLUDED
        if reranking.expand_neighbours:
            first = nearest(found, ids, reranking.expand_neighbours)
            query = expand(library[index], library[first], found[first], reranking.alpha,
                           reranking.floor)
            found = scores(library, query)
            found[index] = EXCLUDED
        order = np.lexsort((ids, -found))[:-1]  # drop the query itself
        relevant = labels_array[order] == labels_array[index]
        total = int(relevant.sum())
        if total == 0:
            continue
        hits = np.cumsum(relevant)
        ranks = np.flatnonzero(relevant) + 1
        average_precisions.append(float((hits[relevant] / ranks).mean()))
        by_label.setdefault(str(labels_array[index]), []).append(average_precisions[-1])
        for cutoff in cutoffs:
            precisions[cutoff].append(float(relevant[:cutoff].sum()) / cutoff)
    count = len(average_precisions)
    return Ranking(
        queries=count,
        mean_average_precision=float(np.mean(average_precisions)) if count else 0.0,
        precision_at={c: float(np.mean(v)) if v else 0.0 for c, v in precisions.items()},
        per_label={label: float(np.mean(values)) for label, values in sorted(by_label.items())},
    )
