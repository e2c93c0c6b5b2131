"""A fresh server under 50 clients at once: search by upload with and without the model
warm-up at start (SEARCH_WARM_UP), measured in the same run.

    source bin/shared-weights; .venv/bin/python bench/first_requests.py [--clients 50]

Each round starts a new daphne process (SQLite, the shipped originals with their
vectors, the real ResNet50); the clients then each send one search by upload and one
library listing, all at once. The round with warm-up goes first and its clients start
when the warm-up is done; those of the round without start after as long. Printed:
p50/p99 of each kind, for the server started with and without warm-up.
"""

import argparse
import io
import os
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from devstack.cluster import Cluster, cluster_env  # noqa: E402

PHOTOS = ROOT.parent / "shared" / "data" / "devset" / "images"


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def one_round(warm_up: bool, clients: int, photos: list[bytes], settle: float) -> tuple:
    with tempfile.TemporaryDirectory(prefix="imagesim-first-") as folder:
        cluster = Cluster(env=cluster_env(database=f"sqlite:///{folder}/db.sqlite3", extra={
            "MEDIA_ROOT": f"{folder}/media", "FEATURE_EMBEDDED_WORKER": "false",
            "SEARCH_WARM_UP": "true" if warm_up else "false",
            "RATE_SEARCH_UPLOAD": "100000/min", "LOG_LEVEL": "INFO"}), logs=Path(folder))
        cluster.set_up()
        cluster.manage("seed_originals")
        try:
            began = time.monotonic()
            web = cluster.start_web()
            log = Path(folder) / "web-1.log"
            # Both servers get the same time between start and the first clients: what the
            # warm-up took (ended by its log line), so only the warm-up itself differs.
            while warm_up and "Search warmed up" not in log.read_text(errors="replace"):
                time.sleep(0.1)
            settle = settle if not warm_up else time.monotonic() - began
            time.sleep(max(0.0, settle - (time.monotonic() - began)))
            headers = {"Authorization": f"Bearer {cluster.key}"}
            timings = {"search by upload": [], "list images": []}
            start = threading.Barrier(clients)

            def client(n: int) -> None:
                start.wait()
                began = time.perf_counter()
                response = requests.post(f"{web}/api/v1/search/", headers=headers, timeout=300,
                                         files={"file": ("q.jpg", io.BytesIO(photos[n]))})
                timings["search by upload"].append(time.perf_counter() - began)
                assert response.status_code == 200, response.text
                began = time.perf_counter()
                requests.get(f"{web}/api/v1/images/", headers=headers, timeout=300)
                timings["list images"].append(time.perf_counter() - began)

            threads = [threading.Thread(target=client, args=(n,)) for n in range(clients)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
        finally:
            cluster.stop()
    return timings, settle


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--clients", type=int, default=50)
    args = parser.parse_args()
    if not os.environ.get("FEATURE_WEIGHTS"):
        raise SystemExit("Set FEATURE_WEIGHTS (source bin/shared-weights).")
    photos = [p.read_bytes() for p in sorted(PHOTOS.glob("*.jpg"))[:args.clients]]
    print(f"{args.clients} clients at once on a fresh server, {os.cpu_count()} CPU cores")
    results, settle = {}, 0.0
    for warm_up in (True, False):
        results[warm_up], settle = one_round(warm_up, args.clients, photos, settle)
        print(f"  (first clients {settle:.1f} s after the server was started)")
        for kind, seconds in results[warm_up].items():
            print(f"  warm-up {'on ' if warm_up else 'off'}  {kind:<17} p50 "
                  f"{statistics.median(seconds) * 1000:8.0f} ms   p99 "
                  f"{percentile(seconds, 0.99) * 1000:8.0f} ms", flush=True)
    off = percentile(results[False]["search by upload"], 0.99)
    on = percentile(results[True]["search by upload"], 0.99)
    print(f"search by upload p99: {off:.1f} s without warm-up, {on:.1f} s with ({off / on:.1f}x)")


if __name__ == "__main__":
    main()
