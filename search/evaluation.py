"""Retrieval quality over a labelled folder of images, on a scratch library.

The scratch library lives in memory: the images are read from the folder, their
vectors extracted with the configured extractor and ranked by the same cosine
maths as the exact index. Nothing is written to the database or the media
folder, so the user's library stays exactly as it was.
"""

import csv
import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from core.errors import ImageSimError, InvalidInput
from search.similarity import Ranking, evaluate_ranking

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class LabelledSet:
    paths: list[Path]
    labels: list[str]


@dataclass(frozen=True)
class Evaluation:
    ranking: Ranking
    extractor: str
    images: int
    skipped: list[str]


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
    for start in range(0, len(labelled.paths), batch_size):
        batch = list(zip(labelled.paths[start:start + batch_size],
                         labelled.labels[start:start + batch_size]))
        readable = []
        for path, label in batch:
            try:
                readable.append((extractor.preprocess(path.read_bytes()), label))
            except ImageSimError as exc:
                logger.warning("Skipped %s: %s", path.name, exc.message)
                skipped.append(path.name)
        if readable:
            vectors.append(extractor.infer(np.stack([item for item, _ in readable])))
            labels.extend(label for _, label in readable)
        progress(len(batch))
    matrix = np.concatenate(vectors) if vectors else np.zeros((0, extractor.dim), np.float32)
    return matrix, labels, skipped


def evaluate_folder(extractor, folder: Path, labels_csv: Path, *, batch_size: int = 16,
                    progress: Callable[[int], None] = lambda done: None,
                    on_start: Callable[[int], None] = lambda total: None) -> Evaluation:
    labelled = read_labels(folder, labels_csv)
    extractor.load()
    on_start(len(labelled.paths))
    vectors, labels, skipped = extract_set(extractor, labelled, batch_size=batch_size,
                                           progress=progress)
    return Evaluation(ranking=evaluate_ranking(vectors, labels), extractor=extractor.fingerprint,
                      images=len(labels), skipped=skipped)
