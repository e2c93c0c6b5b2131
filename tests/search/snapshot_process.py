"""A feature worker writing an index snapshot in its own process, for the crash tests.

    python tests/search/snapshot_process.py hang-while-writing EXTRACTOR

writes a snapshot generation (``snapshot_write``) and stops for good just before its
faiss index file would be renamed into place, after printing ``writing``: the test
kills it there (SIGKILL), as a crash or a power cut would. DATABASE_URL and
SEARCH_INDEX_DIR come from the environment.
"""

import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.settings")

import django  # noqa: E402

django.setup()

from search.index import refresh  # noqa: E402


def hang_while_writing(extractor: str) -> None:
    publish = refresh.publish

    def publish_then_hang(path, name):
        if name.endswith(".faiss") and name.startswith("snapshot-"):
            print("writing", flush=True)
            time.sleep(600)
        return publish(path, name)

    refresh.publish = publish_then_hang
    refresh.snapshot_refresh(extractor=extractor, force=True)


if __name__ == "__main__":
    hang_while_writing(sys.argv[2])
