"""Which approximate-search library the in-process index uses, measured.

    .venv/bin/python bench/index_choice.py              # 100k vectors (about 10 minutes on 2 cores)
    .venv/bin/python bench/index_choice.py --n 20000    # a quick look

On one real-looking library (bench/library_vectors.py: dev-set ResNet50 vectors spread
into clusters) every candidate answers the same 300 queries (library vectors, left out
of their own results, as a search by library image is), one thread each. Printed for
each: build time (training included), bytes of index per vector, search p50/p99, and
recall@6 against the exact top 6 (a float32 scan of all vectors). The faiss candidates
re-check their best candidates exactly (float16 copies of the vectors, as
search/index/approximate.py does); the graph libraries return their own scores.
"""

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from library_vectors import library_make  # noqa: E402  (bench/ is on the path)

K = 6
QUERIES = 300


def exact_top(matrix: np.ndarray, queries: np.ndarray, rows: np.ndarray) -> np.ndarray:
    scores = queries @ matrix.T
    scores[np.arange(len(rows)), rows] = -np.inf
    return np.argsort(-scores, axis=1)[:, :K]


def recall(found: list[np.ndarray], truth: np.ndarray) -> float:
    return float(np.mean([len(set(f[:K].tolist()) & set(t.tolist())) / K
                          for f, t in zip(found, truth)]))


def report(name: str, build: float, nbytes: int, n: int, times: list[float], rec: float) -> None:
    ms = np.asarray(times) * 1000
    print(f"{name:<34} build {build:7.1f} s  {nbytes / n:7.0f} B/vector  "
          f"p50 {np.percentile(ms, 50):6.2f} ms  p99 {np.percentile(ms, 99):6.2f} ms  "
          f"recall@6 {rec:.4f}", flush=True)


def faiss_candidates(matrix, queries, rows, truth, spec: str, probes: list[int], rerank: int):
    import faiss

    faiss.omp_set_num_threads(1)
    n = len(matrix)
    started = time.perf_counter()
    index = faiss.index_factory(matrix.shape[1], spec, faiss.METRIC_INNER_PRODUCT)
    sample = matrix[np.random.default_rng(0).choice(n, min(n, 50_000), replace=False)]
    index.train(sample)
    index.add(matrix)
    build = time.perf_counter() - started
    with tempfile.NamedTemporaryFile(suffix=".faiss") as handle:
        faiss.write_index(index, handle.name)
        nbytes = Path(handle.name).stat().st_size
    half = matrix.astype(np.float16)
    ivf = faiss.extract_index_ivf(index)
    for nprobe in probes:
        ivf.nprobe = nprobe
        found, times = [], []
        for query, row in zip(queries, rows):
            start = time.perf_counter()
            _, ids = index.search(query[None], rerank + 1)
            ids = ids[0][(ids[0] >= 0) & (ids[0] != row)]
            exact = half[ids].astype(np.float32) @ query
            found.append(ids[np.argsort(-exact)[:K]])
            times.append(time.perf_counter() - start)
        report(f"faiss {spec} nprobe={nprobe} R={rerank}", build, nbytes, n, times,
               recall(found, truth))


def hnswlib_candidate(matrix, queries, rows, truth, efs: list[int]):
    import hnswlib

    n = len(matrix)
    started = time.perf_counter()
    index = hnswlib.Index(space="ip", dim=matrix.shape[1])
    index.init_index(max_elements=n, M=16, ef_construction=100)
    index.set_num_threads(2)
    index.add_items(matrix, np.arange(n))
    build = time.perf_counter() - started
    index.set_num_threads(1)
    nbytes = n * (matrix.shape[1] * 4 + 16 * 2 * 4 + 8)
    for ef in efs:
        index.set_ef(ef)
        found, times = [], []
        for query, row in zip(queries, rows):
            start = time.perf_counter()
            ids, _ = index.knn_query(query[None], k=K + 1)
            found.append(np.array([i for i in ids[0] if i != row]))
            times.append(time.perf_counter() - start)
        report(f"hnswlib M=16 ef={ef} (fp32)", build, nbytes, n, times, recall(found, truth))


def usearch_candidate(matrix, queries, rows, truth, dtype: str, efs: list[int]):
    from usearch.index import Index

    n = len(matrix)
    started = time.perf_counter()
    index = Index(ndim=matrix.shape[1], metric="ip", dtype=dtype, connectivity=16,
                  expansion_add=100)
    index.add(np.arange(n), matrix, threads=2)
    build = time.perf_counter() - started
    nbytes = index.memory_usage
    for ef in efs:
        index.expansion_search = ef
        found, times = [], []
        for query, row in zip(queries, rows):
            start = time.perf_counter()
            matches = index.search(query, K + 1, threads=1)
            found.append(np.array([int(key) for key in matches.keys if key != row]))
            times.append(time.perf_counter() - start)
        report(f"usearch {dtype} M=16 ef={ef}", build, nbytes, n, times, recall(found, truth))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--only", default="faiss,hnswlib,usearch")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="index-choice-"))
    library_make(args.n, folder / "vectors.npy")
    matrix = np.load(folder / "vectors.npy")
    rows = np.random.default_rng(1).choice(args.n, QUERIES, replace=False)
    queries = matrix[rows]
    truth = exact_top(matrix, queries, rows)
    print(f"{args.n} vectors of {matrix.shape[1]} dimensions, {QUERIES} queries, one thread")
    only = args.only.split(",")
    lists = 2 ** round(np.log2(2 * np.sqrt(args.n)))  # as search/index/refresh.py picks
    if "faiss" in only:
        faiss_candidates(matrix, queries, rows, truth, f"IVF{lists},SQ8", [8, 16, 32], 64)
        faiss_candidates(matrix, queries, rows, truth, f"PCA512,IVF{lists},SQ8", [16, 32], 64)
    if "hnswlib" in only:
        hnswlib_candidate(matrix, queries, rows, truth, [64, 128])
    if "usearch" in only:
        usearch_candidate(matrix, queries, rows, truth, "i8", [64, 128])
        usearch_candidate(matrix, queries, rows, truth, "f16", [64])
    (folder / "vectors.npy").unlink()
    folder.rmdir()


if __name__ == "__main__":
    main()
