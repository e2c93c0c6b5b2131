"""Scale-out benchmark: ingest with one and with two feature workers on the stack, and
search on pgvector against the exact index at 100k vectors.

    .venv/bin/python bench/scale.py                  # needs FEATURE_WEIGHTS (source bin/shared-weights)
    .venv/bin/python bench/scale.py --photos 64 --no-search

Ingest: PostgreSQL with pgvector, Redis and S3 (moto_server) on this machine, one web
process and the real ResNet50. The dev-set photos are uploaded through the API; then,
with one worker started and warm, features are generated for them all, and again
(vectors dropped) with two warm workers. The rate is taken between the first and the last vector
stored, and the ratio of the two rates is printed beside the number of
CPU cores: two workers can only be faster where there are cores for both.

Search: bench/search.py's pgvector and exact parts at 100k vectors (p50/p99, recall@6).
"""

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psycopg
import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from devstack.cluster import Cluster, cluster_env  # noqa: E402
from devstack.stack import postgres_url, process_stop, redis_url, s3_endpoint  # noqa: E402

DEVSET = ROOT.parent / "shared" / "data" / "devset" / "images"


def upload(cluster: Cluster, web: str, photos: list[Path]) -> None:
    for start in range(0, len(photos), 8):
        files = [("file", (p.name, p.read_bytes(), "image/jpeg")) for p in photos[start:start + 8]]
        response = requests.post(f"{web}/api/v1/images/", files=files, timeout=120,
                                 headers={"Authorization": f"Bearer {cluster.key}"})
        response.raise_for_status()


def vector_times(database: str) -> list[float]:
    with psycopg.connect(database) as connection:
        rows = connection.execute("SELECT extract(epoch FROM created_at) FROM "
                                  "features_featurevector ORDER BY created_at").fetchall()
    return [float(seconds) for seconds, in rows]


def workers_start(cluster: Cluster, workers: int, timeout: float = 300) -> None:
    """Start workers and wait until each has loaded and run the model once."""
    first = len(cluster.workers)
    for _ in range(workers):
        cluster.start_worker({"LOG_LEVEL": "INFO"})
    logs = [cluster.logs / f"worker-{first + n + 1}.log" for n in range(workers)]
    deadline = time.monotonic() + timeout
    while not all("Model warmed up" in log.read_text(errors="replace") for log in logs):
        if time.monotonic() > deadline:
            raise SystemExit(f"The workers did not warm up in {timeout} s (logs: {logs})")
        time.sleep(0.5)


def workers_stop(cluster: Cluster) -> None:
    for process in cluster.workers:
        process_stop(process, timeout=60)
    cluster.workers.clear()


def rate_until(database: str, count: int, timeout: float) -> float:
    """Images per second between the first and the last of ``count`` vectors."""
    deadline = time.monotonic() + timeout
    while len(times := vector_times(database)) < count:
        if time.monotonic() > deadline:
            raise SystemExit(f"Only {len(times)} of {count} vectors after {timeout} s")
        time.sleep(0.5)
    return (count - 1) / max(times[-1] - times[0], 1e-6)


def extract_all(cluster: Cluster, database: str, web: str, workers: int, count: int) -> float:
    """Drop every vector and queued task, start warm workers, then generate features."""
    with psycopg.connect(database) as connection:
        for table in ("features_featurevector", "features_featuretask", "features_featurejob"):
            connection.execute(f"DELETE FROM {table}")
    # Warm before any work arrives: no round counts a model loading beside another working.
    workers_start(cluster, workers)
    requests.post(f"{web}/api/v1/features/jobs/", timeout=60,
                  headers={"Authorization": f"Bearer {cluster.key}"}).raise_for_status()
    rate = rate_until(database, count, timeout=600)
    workers_stop(cluster)
    return rate


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--photos", type=int, default=96)
    parser.add_argument("--no-search", action="store_true")
    args = parser.parse_args()
    if not os.environ.get("FEATURE_WEIGHTS"):
        raise SystemExit("Set FEATURE_WEIGHTS (source bin/shared-weights).")
    photos = sorted(DEVSET.glob("*.jpg"))[:args.photos]
    with tempfile.TemporaryDirectory(prefix="imagesim-scale-") as folder, \
            postgres_url() as database, redis_url() as redis, s3_endpoint() as s3:
        cluster = Cluster(env=cluster_env(database=database, redis=redis, s3=s3, extra={
            "RATE_UPLOADS": "100000/min", "FEATURE_BATCH_SIZE": "16"}), logs=Path(folder))
        cluster.set_up()
        try:
            web = cluster.start_web({"FEATURE_WARM_UP": "false"})
            upload(cluster, web, photos)  # no worker yet: the photos wait in the queue
            rates = {workers: extract_all(cluster, database, web, workers, len(photos))
                     for workers in (1, 2)}
        finally:
            cluster.stop()
    print(f"photos: {len(photos)} (../shared/data/devset/images), CPU cores: {os.cpu_count()}, "
          "PostgreSQL + Redis + S3 (moto_server) on this machine")
    print(f"one worker : {rates[1]:6.2f} images/s")
    print(f"two workers: {rates[2]:6.2f} images/s")
    print(f"two / one  : {rates[2] / rates[1]:.2f}x (target 1.7x where the cores allow two "
          "workers)")
    if not args.no_search:
        print("search at 100k vectors (bench/search.py):", flush=True)
        subprocess.run([sys.executable, str(ROOT / "bench" / "search.py"), "--sizes", "100000",
                        "--no-model", "--queries", "100"], check=True)


if __name__ == "__main__":
    main()
