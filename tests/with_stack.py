"""Run pytest against the scale-out stack: PostgreSQL with pgvector, Redis and S3.

    python tests/with_stack.py -m "not browser" tests/gallery tests/features ...

Starts a throwaway PostgreSQL (pgvector), redis-server and moto_server (S3) on this
machine (devstack/stack.py), points DATABASE_URL, REDIS_URL and MEDIA_STORAGE=s3 with
its AWS_* settings at them, runs ``python -m pytest`` with the remaining arguments,
then stops them. Exits with pytest's exit code; "no tests collected" (5) counts as
success, so a filter that matches nothing is not a failure.
"""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from devstack.stack import postgres_url, redis_url, s3_endpoint  # noqa: E402

NO_TESTS_COLLECTED = 5


def main(args: list[str]) -> int:
    with postgres_url() as database, redis_url() as redis, s3_endpoint() as s3:
        env = {**os.environ, "DATABASE_URL": database, "REDIS_URL": redis, **s3}
        print(f"Stack: PostgreSQL with pgvector at {database}, Redis at {redis}, "
              f"S3 at {s3['AWS_S3_ENDPOINT_URL']}", flush=True)
        code = subprocess.call([sys.executable, "-m", "pytest", *args], cwd=ROOT, env=env)
    return 0 if code == NO_TESTS_COLLECTED else code


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
