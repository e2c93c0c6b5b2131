"""A separate process on a shared SQLite file, for the cross-process index tests.

    python tests/search/index_process.py migrate
    python tests/search/index_process.py add SEED [SEED...]   -> prints the new image ids
    python tests/search/index_process.py delete IMAGE_ID [...]
    python tests/search/index_process.py serve                 -> reads commands on stdin

``serve`` holds one ExactIndex, as a web process does, and keeps three threads
searching it all the time; each ``search SEED`` line on stdin answers one line of
JSON (the top image ids), ``errors`` answers what the background searches raised.
DATABASE_URL and MEDIA_ROOT come from the environment.
"""

import json
import os
import sys
import threading
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.settings")

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402

from gallery.models import Image  # noqa: E402
from search.index.exact import ExactIndex  # noqa: E402
from tests.helpers import fingerprint, library_image, unit  # noqa: E402


def serve() -> None:
    index = ExactIndex()
    errors, stop = [], threading.Event()

    def keep_searching():
        try:
            while not stop.is_set():
                hits = index.search(extractor=fingerprint(), query=unit(0), k=3)
                if len({hit.image_id for hit in hits}) != len(hits):
                    errors.append("a search answered one image twice")
        except Exception as exc:  # reported through the "errors" command
            errors.append(repr(exc))
        finally:
            connection.close()

    threads = [threading.Thread(target=keep_searching) for _ in range(3)]
    for thread in threads:
        thread.start()
    try:
        for line in sys.stdin:
            command, *args = line.split()
            if command == "search":
                hits = index.search(extractor=fingerprint(), query=unit(int(args[0])), k=3)
                print(json.dumps([hit.image_id for hit in hits]), flush=True)
            elif command == "errors":
                print(json.dumps(errors), flush=True)
            elif command == "quit":
                break
    finally:
        stop.set()
        for thread in threads:
            thread.join()


def main(command: str, *args: str) -> None:
    if command == "migrate":
        call_command("migrate", verbosity=0)
    elif command == "add":
        print(json.dumps([library_image((int(seed) % 256, 7, 7), vector=unit(int(seed))).pk
                          for seed in args]))
    elif command == "delete":
        Image.objects.filter(pk__in=[int(pk) for pk in args]).delete()
    elif command == "serve":
        serve()


if __name__ == "__main__":
    main(*sys.argv[1:])
