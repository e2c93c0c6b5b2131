"""A library of a million vectors, opened and searched through the web page.

    .venv/bin/python bench/million.py --sizes 1000000 --keep      # once: the scratch library
    .venv/bin/python bench/million_page.py --folder var/bench/million-1000000-XXXX \
        --work /tmp/million-page-work --port 8765 [--keep] [--shots /tmp/million-page]
        [--memory 4]   # the server as on a 4 GB machine

From a library kept by ``bench/million.py --keep`` (SQLite rows of made-up, real-looking
vectors with the dev-set photos' real ResNet50 vectors hidden at known rows), this makes
a library the real model serves and checks it the way a person uses it:

1. Copies SOURCE/library.sqlite3 into WORK (never touching SOURCE; it waits while any
   process has that file open, as bench/million.py does while it runs).
2. In the copy, every vector becomes the configured real extractor's (its fingerprint), the
   ServingExtractor row names it, and every image row points at a real picture: the dev-set
   photos (and their thumbnails, made as uploads make them) cycled over the million rows; the
   rows holding a real dev-set vector show the very photo (or the copy of it: crop, mirror,
   colour shift...) that vector was extracted from (bench/library_vectors.py makes those
   copies the same way). ``filename`` (the stored, unique name) is left as it was.
3. Writes the searchable and the plain vectors' snapshots (``snapshot_refresh``) into
   WORK/index, so the web processes map them instead of loading 8 GB.
4. Makes a viewer (may browse and search) and an API key for it (manage.py create_user,
   create_api_key).
5. Starts ``bin/serve`` as users do (HOST 127.0.0.1, SEARCH_INDEX=approximate, no
   embedded feature worker: the later stages' backlog of a million images is not this
   check's subject, DEMO_ORIGINALS=false so the library stays at a million), with the
   model files ``source bin/shared-weights`` exports (read here: nothing need be exported).
6. Drives Debian's Chromium (Playwright, never ``playwright install``): signs in, sees the
   count and the first thumbnails, scrolls to the very last image, searches with an
   uploaded dev-set photo whose vector is in the library (top similarity ~1.0), searches
   with a library image (a result's "Search with this image", the viewer's), saving a
   screenshot of each step; then times the API calls the page makes with plain HTTP.
7. Stops the server (SIGTERM to bin/serve; no daphne left), prints a summary, and removes
   WORK unless --keep (or unless a check failed: then it is kept for a look).

``--memory GB`` runs bin/serve and its processes (not the browser, not the preparation) in a
control group limited to that much memory, page cache counted (bench/memory_limit.py), after
dropping WORK's files from the page cache, and prints the most the group used.
"""

import argparse
import json
import math
import os
import random
import re
import secrets
import shutil
import signal
import socket
import sqlite3
import statistics
import subprocess
import sys
import time
import traceback
from contextlib import ExitStack
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
# The project before bench/ (this script's folder, whose search.py would hide the app).
sys.path.insert(0, str(ROOT))
sys.path.insert(1, str(ROOT / "bench"))

from memory_limit import memory_group  # noqa: E402

DEVSET = ROOT.parent / "shared" / "data" / "devset" / "images"
DEVSET_VECTORS = ROOT / "var" / "bench" / "devset_vectors.npz"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
PAGE_SIZE = 60  # the page's own (web/static/web/js/gallery.js)
USERNAME = "million-viewer"

FIGURES: dict = {}    # name -> value, printed in the summary
FAILURES: list = []   # what did not hold, in words


def say(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


def check(ok: bool, what: str) -> bool:
    say(("ok: " if ok else "FAILED: ") + what)
    if not ok:
        FAILURES.append(what)
    return ok


def timed(name: str):
    """A context manager that records how long a preparation step took."""
    class Step:
        def __enter__(self):
            say(f"{name} ...")
            self.started = time.perf_counter()
            return self

        def __exit__(self, *exc):
            seconds = time.perf_counter() - self.started
            FIGURES[f"prepare: {name} (s)"] = round(seconds, 1)
            say(f"{name}: {seconds:.1f} s" + (" (failed)" if exc[0] else ""))
            return False
    return Step()


def p50(values) -> float:
    return float(statistics.median(values))


# ---------------------------------------------------------------- 1. the copy

def holders(path: Path) -> list[int]:
    """Processes that have ``path`` (or its -wal) open."""
    wanted = {str(path), f"{path}-wal"}
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            for fd in (entry / "fd").iterdir():
                try:
                    if os.readlink(fd) in wanted:
                        found.append(int(entry.name))
                        break
                except OSError:
                    continue
        except OSError:
            continue
    return found


def library_copy(source: Path, work: Path, wait_s: float) -> Path:
    database = source / "library.sqlite3"
    started = time.monotonic()
    while busy := holders(database):
        if time.monotonic() - started > wait_s:
            raise SystemExit(f"{database} is still open in processes {busy}: not copied")
        say(f"{database} is open in processes {busy}: waiting 60 s")
        time.sleep(60)
    FIGURES["prepare: waited for other processes to close the source (s)"] = round(
        time.monotonic() - started, 1)
    copying = time.perf_counter()
    target = work / "library.sqlite3"
    shutil.copyfile(database, target)
    wal = Path(f"{database}-wal")
    if wal.exists() and wal.stat().st_size:  # no writer is left: the copy recovers it
        shutil.copyfile(wal, Path(f"{target}-wal"))
    FIGURES["prepare: the file copied (s)"] = round(time.perf_counter() - copying, 1)
    return target


# ---------------------------------------------------------------- 2. the real library

def django_setup(env: dict) -> None:
    os.environ.update(env)
    import django

    django.setup()


def photos_write(media: Path) -> tuple[list[dict], dict]:
    """The dev-set photos into MEDIA_ROOT as uploads store them (images/, thumbnails/, the
    thumbnail made by the app's own code); and the copies bench/library_vectors.py extracted,
    for the rows holding a real vector. Returns the photos (sorted by name, as the cycle goes)
    and {(photo index, copy label): stored picture}."""
    from PIL import Image as PILImage
    from PIL import ImageOps

    from gallery.thumbnails import make_thumbnail
    from gallery.validation import check_image
    from library_vectors import COPIES, _jpeg

    (media / "images").mkdir(parents=True, exist_ok=True)
    (media / "thumbnails").mkdir(parents=True, exist_ok=True)

    def store(stem: str, data: bytes, name: str) -> dict:
        info = check_image(data, name=name)
        (media / "images" / f"{stem}.jpg").write_bytes(data)
        (media / "thumbnails" / f"{stem}.jpg").write_bytes(make_thumbnail(data))
        return {"file": f"images/{stem}.jpg", "thumbnail": f"thumbnails/{stem}.jpg",
                "width": info.width, "height": info.height, "format": info.format,
                "size_bytes": len(data), "name": name}

    real = np.load(DEVSET_VECTORS)
    names = [str(n) for n in real["names"]]
    if sorted(p.name for p in DEVSET.iterdir()) != names:
        raise SystemExit(f"{DEVSET} is not the folder {DEVSET_VECTORS} was extracted from")
    photos = [store(f"devset-{Path(n).stem}", (DEVSET / n).read_bytes(), n) for n in names]
    copies = {}
    for index, label in sorted({(int(p), str(c)) for p, c in zip(real["photo"], real["copy"])}):
        if not label:
            copies[(index, label)] = photos[index]
            continue
        name = names[index]
        with PILImage.open(DEVSET / name) as opened:
            picture = ImageOps.exif_transpose(opened).convert("RGB")
        data = _jpeg(COPIES[label](picture, random.Random(f"{name}-{label}")))
        copies[(index, label)] = store(f"devset-{Path(name).stem}-{label}", data,
                                       f"{Path(name).stem}-{label}.jpg")
    return photos, copies


def library_convert(database: Path, fingerprint: str, photos: list[dict], copies: dict,
                    real_rows: np.ndarray) -> dict:
    """One connection of its own (no rollback journal: a scratch copy, made again if this is
    interrupted): the vectors' extractor, the rows' pictures, the change log pruned."""
    real = np.load(DEVSET_VECTORS)
    db = sqlite3.connect(database, isolation_level=None)
    try:
        modes = [db.execute("PRAGMA journal_mode=DELETE").fetchone()[0],
                 db.execute("PRAGMA journal_mode=OFF").fetchone()[0]]
        if modes != ["delete", "off"]:
            raise SystemExit(f"could not leave WAL for the bulk update: {modes}")
        db.execute("PRAGMA synchronous=OFF")
        db.execute("PRAGMA cache_size=-1048576")  # 1 GB
        before = dict(db.execute("SELECT extractor, COUNT(*) FROM features_featurevector"
                                 " GROUP BY extractor").fetchall())
        images = db.execute("SELECT COUNT(*), MIN(id), MAX(id) FROM gallery_image").fetchone()
        say(f"vectors by extractor before: {before}; images: {images[0]:,} (ids {images[1]}"
            f" to {images[2]})")

        started = time.perf_counter()
        db.execute("BEGIN")
        db.execute("UPDATE features_featurevector SET extractor = ? WHERE extractor <> ?",
                   (fingerprint, fingerprint))
        db.execute("COMMIT")
        FIGURES["prepare: vectors' extractor set, UPDATE (s)"] = round(
            time.perf_counter() - started, 1)

        started = time.perf_counter()
        db.execute("BEGIN")
        db.execute("CREATE TEMP TABLE photo (k INTEGER PRIMARY KEY, file TEXT, thumbnail TEXT,"
                   " width INTEGER, height INTEGER, format TEXT, size_bytes INTEGER)")
        db.executemany("INSERT INTO photo VALUES (?, ?, ?, ?, ?, ?, ?)",
                       [(k, p["file"], p["thumbnail"], p["width"], p["height"], p["format"],
                         p["size_bytes"]) for k, p in enumerate(photos)])
        # The cycle, in one UPDATE: image id i shows photo (i - 1) mod 300.
        db.execute(
            "UPDATE gallery_image SET file = photo.file, thumbnail = photo.thumbnail,"
            " width = photo.width, height = photo.height, format = photo.format,"
            " size_bytes = photo.size_bytes FROM photo"
            " WHERE photo.k = (gallery_image.id - 1) % ?", (len(photos),))
        # The rows holding a real vector show the picture it was extracted from.
        db.execute("CREATE TEMP TABLE real_row (id INTEGER PRIMARY KEY, file TEXT,"
                   " thumbnail TEXT, width INTEGER, height INTEGER, size_bytes INTEGER)")
        rows = []
        for j, row in enumerate(real_rows):
            p = copies[(int(real["photo"][j]), str(real["copy"][j]))]
            rows.append((int(row) + 1, p["file"], p["thumbnail"], p["width"], p["height"],
                         p["size_bytes"]))
        db.executemany("INSERT INTO real_row VALUES (?, ?, ?, ?, ?, ?)", rows)
        db.execute(
            "UPDATE gallery_image SET file = real_row.file, thumbnail = real_row.thumbnail,"
            " width = real_row.width, height = real_row.height,"
            " size_bytes = real_row.size_bytes FROM real_row"
            " WHERE gallery_image.id = real_row.id")
        db.execute("COMMIT")
        FIGURES["prepare: image rows pointed at the photos, 2 UPDATEs (s)"] = round(
            time.perf_counter() - started, 1)

        # The triggers logged every vector twice (old and new extractor): prune the log as
        # changes_prune does with no reader left (the bench's readers are gone), keeping the
        # newest entry; the snapshots written next cover it.
        started = time.perf_counter()
        logged = db.execute("SELECT COUNT(*) FROM search_vectorchange").fetchone()[0]
        db.execute("BEGIN")
        db.execute("DELETE FROM search_indexreader")
        db.execute("DELETE FROM search_vectorchange"
                   " WHERE id < (SELECT MAX(id) FROM search_vectorchange)")
        db.execute("COMMIT")
        FIGURES["prepare: change log pruned (s)"] = round(time.perf_counter() - started, 1)
        say(f"change log: {logged:,} entries, pruned to the newest")

        after = dict(db.execute("SELECT extractor, COUNT(*) FROM features_featurevector"
                                " GROUP BY extractor").fetchall())
        mode = db.execute("PRAGMA journal_mode=WAL").fetchone()[0]
        if mode != "wal":
            raise SystemExit(f"could not go back to WAL: {mode}")
    finally:
        db.close()
    check(after == {fingerprint: images[0]},
          f"every vector is {fingerprint}'s: {after}")
    return {"images": images[0], "vectors_before": before, "vectors_after": after}


def serving_set(fingerprint: str) -> None:
    from django.conf import settings

    from features.extractors.loader import get_extractor
    from features.models import ServingExtractor

    before = ServingExtractor.objects.filter(pk=1).values("fingerprint", "path", "preset").first()
    ServingExtractor.objects.update_or_create(pk=1, defaults={
        "fingerprint": fingerprint, "path": settings.FEATURE_EXTRACTOR,
        "preset": get_extractor().preset})
    say(f"ServingExtractor before: {before}; now: {fingerprint}")


def snapshots_write(fingerprint: str) -> None:
    from django.db import connection

    from search.index.refresh import snapshot_refresh

    for column in ("searchable", "vector"):
        with timed(f"snapshot written, column {column}"):
            rows = snapshot_refresh(extractor=fingerprint, column=column, force=True)
        check(rows == FIGURES.get("images"), f"the {column} snapshot holds {rows:,} rows")
    connection.close()


# ---------------------------------------------------------------- 4-5. the server

def manage(env: dict, *args: str, stdin: str = "") -> str:
    done = subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=env, input=stdin,
                          capture_output=True, text=True, timeout=600)
    if done.returncode:
        raise SystemExit(f"manage.py {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}")
    return done.stdout


def port_free(port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) != 0


def children(pid: int) -> list[int]:
    found = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            found += [int(c) for c in (task / "children").read_text().split()]
        except OSError:
            pass
    return found


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def memory(pid: int) -> dict:
    fields = {}
    for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines()[1:]:
        name, value, *_ = line.split()
        fields[name.rstrip(":")] = int(value) / 1024
    return {"rss_mb": round(fields["Rss"]), "pss_mb": round(fields["Pss"]),
            "anonymous_mb": round(fields["Anonymous"])}


class Server:
    def __init__(self, env: dict, port: int, log: Path, *, group=None):
        """``group``: a memory group (bench/memory_limit.py) bin/serve runs in."""
        self.env, self.port, self.log_path, self.group = env, port, log, group
        self.url = f"http://127.0.0.1:{port}"
        self.process = None
        self.daphnes: list[int] = []

    def start(self, timeout: float = 600) -> None:
        self.log = open(self.log_path, "ab")  # noqa: SIM115 - closed in stop()
        started = time.perf_counter()
        command = ["bin/serve"] if self.group is None else self.group.command(["bin/serve"])
        self.process = subprocess.Popen(command, cwd=ROOT, env=self.env, stdout=self.log,
                                        stderr=subprocess.STDOUT, start_new_session=True)
        import urllib.error
        import urllib.request

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"bin/serve exited ({self.process.returncode}):\n"
                                   + self.log_tail())
            try:
                with urllib.request.urlopen(self.url + "/accounts/sign-in/", timeout=5) as reply:
                    if reply.status == 200:
                        break
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                time.sleep(0.5)
        else:
            raise RuntimeError("bin/serve did not answer in time:\n" + self.log_tail())
        FIGURES["server: bin/serve start to the sign-in page answering (s)"] = round(
            time.perf_counter() - started, 1)
        self.daphnes = children(self.process.pid)
        say(f"bin/serve (pid {self.process.pid}) answers at {self.url}; web processes "
            f"{self.daphnes}")
        # The background warm-up of each web process (model and index): its log line.
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline:
            if self.log_text().count("Search warmed up") >= len(self.daphnes):
                break
            time.sleep(0.5)
        warmed = self.log_text().count("Search warmed up")
        FIGURES["server: bin/serve start to every web process's 'Search warmed up' (s)"] = (
            round(time.perf_counter() - started, 1) if warmed >= len(self.daphnes)
            else f"only {warmed} of {len(self.daphnes)} in 300 s")

    def log_text(self) -> str:
        return self.log_path.read_text(errors="replace")

    def log_tail(self, lines: int = 40) -> str:
        return "\n".join(self.log_text().splitlines()[-lines:])

    def stop(self) -> None:
        if self.process is None:
            return
        pids = set(self.daphnes) | set(children(self.process.pid))
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(60)
            except subprocess.TimeoutExpired:
                say("bin/serve did not stop in 60 s after SIGTERM: SIGKILL")
                self.process.kill()
                self.process.wait()
        time.sleep(1)
        left = [pid for pid in pids if alive(pid)]
        for pid in left:  # only the processes this server started
            os.kill(pid, signal.SIGKILL)
        check(not left, f"bin/serve stopped (status {self.process.returncode}) and no web "
              f"process of it is left (web processes were {sorted(pids)}"
              + (f"; killed {left}" if left else "") + ")")
        self.log.close()


# ---------------------------------------------------------------- 6. the page

THUMBS_IN_VIEW = """() => {
    const tiles = [...document.querySelectorAll('#panel-gallery .tile')].filter((t) => {
        const box = t.getBoundingClientRect();
        return box.bottom > 0 && box.top < innerHeight && box.width > 0;
    });
    const images = tiles.map((t) => t.querySelector('img')).filter(Boolean);
    return {tiles: tiles.length, loading: tiles.filter((t) => t.classList.contains('tile--loading')).length,
            loaded: images.filter((img) => img.complete && img.naturalWidth > 0).length,
            indexes: tiles.map((t) => Number(t.dataset.index)).filter((i) => !Number.isNaN(i))};
}"""

ALL_THUMBS_IN_VIEW_LOADED = """() => {
    const tiles = [...document.querySelectorAll('#panel-gallery .tile')].filter((t) => {
        const box = t.getBoundingClientRect();
        return box.bottom > 0 && box.top < innerHeight && box.width > 0;
    });
    return tiles.length > 0 && tiles.every((t) => {
        const img = t.querySelector('img');
        return img && img.complete && img.naturalWidth > 0;
    });
}"""

LAST_TILE_LOADED = """(last) => {
    const tile = document.querySelector(`#panel-gallery .tile[data-index="${last}"]`);
    if (!tile) return false;
    const box = tile.getBoundingClientRect();
    const img = tile.querySelector('img');
    return box.top < innerHeight && box.bottom > 0 && img && img.complete && img.naturalWidth > 0;
}"""

SCROLL_SETTLED = """() => new Promise((resolve) => {
    let last = scrollY, still = 0;
    const tick = () => {
        if (scrollY === last) { if (++still > 15) return resolve(true); }
        else { still = 0; last = scrollY; }
        requestAnimationFrame(tick);
    };
    tick();
})"""

PAGE_STATE = """() => {
    const status = document.querySelector('[data-features-status]');
    return {count: /\\d/.test(document.querySelector('[data-gallery-count]')?.textContent || ''),
            status: status ? status.textContent.trim() : '',
            thumbnails: (%s)()};
}""" % ALL_THUMBS_IN_VIEW_LOADED

RESULTS_LOADED = """() => {
    const images = [...document.querySelectorAll('.result img')];
    return images.length === 6 && images.every((img) => img.complete && img.naturalWidth > 0);
}"""


def results(page) -> list[dict]:
    return page.locator(".result").evaluate_all("""nodes => nodes.map((n) => ({
        id: Number(n.dataset.id), name: n.dataset.name,
        similarity: Number(n.querySelector('.score__value').dataset.similarity)}))""")


def search_timed(page, start, query_name: str, figure: str) -> list[dict]:
    """Run a search by calling ``start`` (a click) and wait for its six results: the seconds
    to the results and to their thumbnails go into FIGURES under ``figure``; the results."""
    from playwright.sync_api import expect

    started = time.perf_counter()
    start()
    expect(page.locator("[data-results-title]")).to_have_text(f"Most similar to “{query_name}”")
    expect(page.locator(".result")).to_have_count(6)
    answered = time.perf_counter()
    page.wait_for_function(RESULTS_LOADED)
    loaded = time.perf_counter()
    FIGURES[f"page: {figure}, to results (s)"] = round(answered - started, 2)
    FIGURES[f"page: {figure}, to results' thumbnails (s)"] = round(loaded - started, 2)
    return results(page)


def page_checks(server: Server, password: str, shots: Path, uploads: list[dict],
                total: int) -> None:
    from playwright.sync_api import expect, sync_playwright

    expect.set_options(timeout=120_000)
    shots.mkdir(parents=True, exist_ok=True)
    requests_seen, errors = [], []

    def shot(page, name: str) -> None:
        page.evaluate(SCROLL_SETTLED)  # the results scroll into view smoothly
        path = shots / f"{name}.png"
        page.screenshot(path=str(path))
        say(f"screenshot {path}")

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        context = browser.new_context(viewport={"width": 1280, "height": 900},
                                      base_url=server.url)
        context.set_default_timeout(120_000)
        page = context.new_page()

        def finished(request):
            response = request.response()
            timing = request.timing
            requests_seen.append({
                "method": request.method, "url": request.url.removeprefix(server.url),
                "status": response.status if response else None,
                "ms": round(timing["responseEnd"], 1) if timing["responseEnd"] >= 0 else None})

        page.on("requestfinished", finished)
        page.on("requestfailed", lambda request: errors.append(
            f"request failed: {request.method} {request.url} {request.failure}"))
        page.on("pageerror", lambda error: errors.append(f"page error: {error}"))
        page.on("console", lambda msg: msg.type == "error" and errors.append(
            f"console: {msg.text}"))

        # Sign in through the form; the Gallery opens with the count and the first thumbnails.
        page.goto("/accounts/sign-in/?next=/")
        page.get_by_label("Username").fill(USERNAME)
        page.get_by_label("Password", exact=True).fill(password)
        started = time.perf_counter()
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_url(lambda url: "/accounts/" not in url)
        marks = {"the gallery page": time.perf_counter()}
        # Each of these, the moment it is first seen (the page looked at every 50 ms).
        deadline = time.monotonic() + 120
        while len(marks) < 4 and time.monotonic() < deadline:
            state = page.evaluate(PAGE_STATE)
            now = time.perf_counter()
            if state["count"]:
                marks.setdefault("the count", now)
            if state["thumbnails"]:
                marks.setdefault("every thumbnail in view loaded", now)
            if state["status"] and not state["status"].startswith("Checking"):
                marks.setdefault("the Features card's status", now)
            page.wait_for_timeout(50)
        for name, moment in marks.items():
            FIGURES[f"page: sign-in submitted -> {name} shown (s)"] = round(moment - started, 2)
        count_text = page.locator("[data-gallery-count]").text_content()
        check(count_text == f"{total:,} images",
              f"the Gallery's count says {count_text!r} (library: {total:,})")
        view = page.evaluate(THUMBS_IN_VIEW)
        check(view["tiles"] > 0 and view["loaded"] == view["tiles"],
              f"the first thumbnails loaded: {view['loaded']} of {view['tiles']} tiles in view")
        status = page.locator("[data-features-status]").text_content().strip()
        FIGURES["page: the Features card says"] = status
        check(len(marks) == 4, f"the gallery page showed all it shows within 120 s: {list(marks)}")
        grid_height = page.evaluate(
            "document.querySelector('[data-gallery-grid]').offsetHeight")
        FIGURES["page: the grid's height (px)"] = grid_height
        shot(page, "01-gallery-first")

        # The very end of the library: the scroll bar spans a million.
        last = total - 1
        started = time.perf_counter()
        page.evaluate("window.scrollTo(0, document.body.scrollHeight)")
        page.wait_for_function(LAST_TILE_LOADED, arg=last)
        tiles_at_end = time.perf_counter()
        page.wait_for_function(ALL_THUMBS_IN_VIEW_LOADED)
        end_shown = time.perf_counter()
        view = page.evaluate(THUMBS_IN_VIEW)
        last_tile = page.locator(f'#panel-gallery .tile[data-index="{last}"]')
        last_id, last_name = last_tile.get_attribute("data-id"), last_tile.get_attribute("data-name")
        in_dom = page.locator("#panel-gallery .tile").count()
        FIGURES["page: scroll to the end -> the last image's thumbnail loaded (s)"] = round(
            tiles_at_end - started, 2)
        FIGURES["page: scroll to the end -> every thumbnail in view loaded (s)"] = round(
            end_shown - started, 2)
        check(view["loaded"] == view["tiles"] and max(view["indexes"]) == last,
              f"at the end: tiles {min(view['indexes']):,} to {max(view['indexes']):,} in view, "
              f"{view['loaded']} of {view['tiles']} thumbnails loaded; the last is image "
              f"{last_id} ({last_name}); {in_dom} tiles in the page")
        FIGURES["page: the last tile (index, id, name)"] = f"{last:,}, {last_id}, {last_name}"
        shot(page, "02-gallery-last")

        # Search by upload: a dev-set photo whose real vector is hidden in the library.
        page.get_by_role("tab", name="Search").click()
        for number, query in enumerate(uploads, 1):
            page.locator("[data-search-file]").set_input_files(query["path"])
            expect(page.get_by_role("img", name=f"Query: {query['path'].name}")).to_be_visible()
            found = search_timed(page, page.locator("[data-search-run]").click,
                                 query["path"].name, f"search by upload {number}, submit")
            top = found[0]
            where = ("its own row" if top["id"] == query["row_id"] else
                     "one of its copies" if top["id"] in query["copy_ids"] else "another image")
            check(top["id"] in {query["row_id"], *query["copy_ids"]}
                  and top["similarity"] >= 0.99,
                  f"upload {query['path'].name}: top result image {top['id']} ({where}; the "
                  f"photo's own row is image {query['row_id']}), similarity "
                  f"{top['similarity']:.4f}; all: "
                  + ", ".join(f"{r['id']}={r['similarity']:.3f}" for r in found))
            shot(page, f"03-search-upload-{number}")

        # A result's "Search with this image" (a library image: the photo's own row).
        first = page.locator(".result").first
        name = first.get_attribute("data-name")
        found = search_timed(page, first.get_by_role("button", name="Search with this image").click,
                             name, "a result's 'Search with this image', click")
        check(all(r["name"] != name for r in found),
              f"search with library image {name}: {len(found)} results, itself not among them; "
              + ", ".join(f"{r['id']}={r['similarity']:.3f}" for r in found))
        shot(page, "04-search-with-result")

        # From the gallery: the last image's viewer, "Search with this image".
        page.get_by_role("tab", name="Gallery").click()
        page.evaluate("window.scrollTo(0, document.body.scrollHeight)")
        page.wait_for_function(LAST_TILE_LOADED, arg=last)
        last_tile.locator(".tile__open").click()
        viewer = page.locator("#viewer")
        expect(viewer).to_be_visible()
        expect(viewer.locator("#viewer-title")).to_have_text(last_name)
        page.wait_for_function("""() => {
            const img = document.querySelector('#viewer [data-viewer-image]');
            return img && img.complete && img.naturalWidth > 0; }""")
        FIGURES["page: the viewer of the last image"] = (
            f"{viewer.locator('[data-viewer-counter]').text_content()} · "
            f"{viewer.locator('[data-viewer-meta]').text_content()}")
        shot(page, "05-viewer-last")
        found = search_timed(page, viewer.locator("[data-viewer-search]").click, last_name,
                             "the viewer's 'Search with this image' (last image), click")
        check(all(str(r["id"]) != last_id for r in found) and len(found) == 6,
              f"search with the last image ({last_name}): "
              + ", ".join(f"{r['id']}={r['similarity']:.3f}" for r in found))
        shot(page, "06-search-from-viewer")
        context.close()
        browser.close()

    api = [r for r in requests_seen if r["url"].startswith("/api/")]
    bad = [r for r in requests_seen if r["status"] is None or r["status"] >= 400]
    (shots / "requests.json").write_text(json.dumps(requests_seen, indent=1))
    say(f"the page made {len(requests_seen)} requests ({len(api)} to the API); "
        f"written to {shots / 'requests.json'}")
    for r in api:
        say(f"  {r['method']} {r['url'][:110]} -> {r['status']} in {r['ms']} ms")
    check(not bad, f"every request the page made answered below 400: {bad[:10]}")
    check(not errors, f"no JavaScript error or failed request on the page: {errors[:10]}")


# ---------------------------------------------------------------- 6b. plain HTTP

def http_checks(server: Server, key: str, uploads: list[dict], total: int, calls: int) -> None:
    import requests

    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {key}"
    last_page = math.ceil(total / PAGE_SIZE)
    rng = np.random.default_rng(3)

    def timed_calls(name: str, make_call, verify) -> None:
        seconds = []
        for i in range(calls):
            started = time.perf_counter()
            reply = make_call(i)
            seconds.append(time.perf_counter() - started)
            if reply.status_code != 200:
                check(False, f"{name}: call {i + 1} answered {reply.status_code}: "
                      f"{reply.text[:300]}")
                return
            verify(reply.json(), i)
        ms = [s * 1000 for s in seconds]
        FIGURES[f"http: {name}, p50 of {calls} (ms)"] = round(p50(ms), 1)
        FIGURES[f"http: {name}, first / min / max (ms)"] = (
            f"{ms[0]:.1f} / {min(ms):.1f} / {max(ms):.1f}")

    def listed(expected_results):
        def verify(body, i):
            if i == 0:
                check(body["count"] == total and len(body["results"]) == expected_results,
                      f"count {body['count']:,}, {len(body['results'])} images on the page")
        return verify

    timed_calls("GET /api/v1/images/ first page",
                lambda i: session.get(f"{server.url}/api/v1/images/",
                                      params={"kind": "all", "q": "", "page": 1,
                                              "page_size": PAGE_SIZE}, timeout=120),
                listed(min(PAGE_SIZE, total)))
    timed_calls(f"GET /api/v1/images/ last page ({last_page:,})",
                lambda i: session.get(f"{server.url}/api/v1/images/",
                                      params={"kind": "all", "q": "", "page": last_page,
                                              "page_size": PAGE_SIZE}, timeout=120),
                listed(total - (last_page - 1) * PAGE_SIZE))

    def status(body, i):
        if i == 0:
            check(body["counts"]["images"] == total and body["counts"]["pending"] == 0,
                  f"features status: {body['counts']}")

    timed_calls("GET /api/v1/features/status/",
                lambda i: session.get(f"{server.url}/api/v1/features/status/", timeout=120),
                status)

    image_ids = [int(i) for i in rng.integers(1, total + 1, calls)]

    def by_image(body, i):
        ids = [r["id"] for r in body["results"]]
        if len(ids) != 6 or image_ids[i] in ids:
            check(False, f"search by image {image_ids[i]}: results {ids}")

    for label in ("random ids", "the same ids again"):
        timed_calls(f"POST /api/v1/search/ by library image ({label})",
                    lambda i: session.post(f"{server.url}/api/v1/search/",
                                           data={"image_id": image_ids[i], "k": 6,
                                                 "kind": "all"}, timeout=120), by_image)

    def by_upload(body, i):
        query = uploads[i % len(uploads)]
        top = body["results"][0]
        if top["id"] not in {query["row_id"], *query["copy_ids"]} or top["similarity"] < 0.99:
            check(False, f"upload {query['path'].name}: top {top['id']} {top['similarity']}")

    timed_calls("POST /api/v1/search/ by upload (dev-set photos)",
                lambda i: session.post(
                    f"{server.url}/api/v1/search/", data={"k": 6, "kind": "all"},
                    files={"file": (uploads[i % len(uploads)]["path"].name,
                                    uploads[i % len(uploads)]["path"].read_bytes(),
                                    "image/jpeg")}, timeout=120), by_upload)

    thumbnails = [f"{n}.jpg" for n in rng.integers(1, total + 1, calls)]
    seconds = []
    for name in thumbnails:
        started = time.perf_counter()
        reply = session.get(f"{server.url}/images/thumb/{name}", timeout=60)
        seconds.append(time.perf_counter() - started)
        if reply.status_code != 200 or not reply.headers["Content-Type"].startswith("image/"):
            check(False, f"thumbnail {name}: {reply.status_code} {reply.text[:200]}")
            break
    else:
        FIGURES[f"http: GET /images/thumb/<random image>, p50 of {calls} (ms)"] = round(
            p50([s * 1000 for s in seconds]), 1)


# ---------------------------------------------------------------- the run

def upload_queries(real_rows: np.ndarray, folder: Path, count: int) -> list[dict]:
    """Dev-set photos spread over the set, each with the library rows holding its vector."""
    real = np.load(DEVSET_VECTORS)
    names = [str(n) for n in real["names"]]
    own = {int(p): int(real_rows[j]) + 1 for j, (p, c) in
           enumerate(zip(real["photo"], real["copy"])) if not c and j < len(real_rows)}
    picks = [sorted(own)[i * len(own) // count] for i in range(count)]
    folder.mkdir(parents=True, exist_ok=True)
    queries = []
    for photo in picks:
        path = folder / names[photo]
        shutil.copyfile(DEVSET / names[photo], path)
        copy_ids = sorted(int(real_rows[j]) + 1 for j, (p, c) in
                          enumerate(zip(real["photo"], real["copy"]))
                          if int(p) == photo and c and j < len(real_rows))
        queries.append({"path": path, "row_id": own[photo], "copy_ids": copy_ids})
        say(f"query photo {names[photo]}: its vector is image {own[photo]}, its copies' "
            f"images {copy_ids}")
    return queries


def shared_weights() -> dict:
    """What ``source bin/shared-weights`` exports (the real model's files beside the project)."""
    out = subprocess.run(["bash", "-c", "source bin/shared-weights && env -0"], cwd=ROOT,
                         capture_output=True, check=True).stdout.decode()
    env = dict(item.split("=", 1) for item in out.split("\0") if "=" in item)
    return {k: env[k] for k in ("FEATURE_WEIGHTS", "LABEL_HEAD_WEIGHTS", "LABEL_CLASS_INDEX")
            if k in env}


def files_uncache(folder: Path) -> None:
    """Drop every file under ``folder`` from the page cache (as after a reboot): written
    out first, as pages not yet on disk are not dropped."""
    for path in folder.rglob("*"):
        if path.is_file():
            descriptor = os.open(path, os.O_RDONLY)
            try:
                os.fsync(descriptor)
                os.posix_fadvise(descriptor, 0, 0, os.POSIX_FADV_DONTNEED)
            finally:
                os.close(descriptor)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--folder", type=Path, required=True,
                        help="a library kept by bench/million.py --keep (read, never changed)")
    parser.add_argument("--work", type=Path, required=True,
                        help="a new folder for the copy, its media and snapshots")
    parser.add_argument("--port", type=int, required=True, help="a free port on 127.0.0.1")
    parser.add_argument("--shots", type=Path, default=Path("/tmp/million-page"),
                        help="where the screenshots go")
    parser.add_argument("--calls", type=int, default=10, help="HTTP calls timed per kind")
    parser.add_argument("--uploads", type=int, default=3,
                        help="dev-set photos searched with through the page")
    parser.add_argument("--wait", type=float, default=3600,
                        help="seconds to wait while another process has the source open")
    parser.add_argument("--keep", action="store_true", help="keep WORK at the end")
    parser.add_argument("--memory", type=float, metavar="GB",
                        help="serve as on a machine with this much memory: bin/serve and its "
                        "processes in a memory-limited control group, page cache counted, the "
                        "library's files dropped from the page cache first "
                        "(bench/memory_limit.py; the browser is not in the group)")
    args = parser.parse_args()
    source, work = args.folder.resolve(), args.work.resolve()
    if work == source or source in work.parents:
        raise SystemExit("--work must be outside --folder (the source is never changed)")
    if work.exists() and any(work.iterdir()):
        raise SystemExit(f"{work} is not empty: give a new folder")
    if not port_free(args.port):
        raise SystemExit(f"port {args.port} is taken on 127.0.0.1: give a free one")
    if not DEVSET_VECTORS.exists():
        raise SystemExit(f"{DEVSET_VECTORS} is missing: run bench/library_vectors.py first")
    real_rows = np.load(source / "real_rows.npy")
    work.mkdir(parents=True, exist_ok=True)
    media, index = work / "media", work / "index"
    weights = shared_weights()
    secret_key = secrets.token_urlsafe(50)
    env = {
        **os.environ, **weights,
        "DJANGO_SETTINGS_MODULE": "imagesim.settings",
        "DATABASE_URL": f"sqlite:///{work / 'library.sqlite3'}",
        "MEDIA_ROOT": str(media), "SEARCH_INDEX": "approximate", "SEARCH_INDEX_DIR": str(index),
        "FEATURE_EMBEDDED_WORKER": "false", "DEMO_ORIGINALS": "false",
        "HOST": "127.0.0.1", "PORT": str(args.port), "SECRET_KEY": secret_key,
    }
    say(f"source {source}; work {work}; model files {weights}")
    server = None
    # Closed once the server has stopped: the group is removed only when empty.
    server_group = ExitStack()
    group = (server_group.enter_context(memory_group(int(args.memory * (1 << 30))))
             if args.memory is not None else None)
    try:
        with timed("copy of library.sqlite3, waiting included"):
            library_copy(source, work, args.wait)
        # This process's Django: the preparation only (no log noise, no warm-up).
        django_setup({**env, "LOG_LEVEL": "WARNING", "SEARCH_WARM_UP": "false"})
        from features.extractors.loader import get_extractor

        fingerprint = get_extractor().fingerprint
        devset_fingerprint = str(np.load(DEVSET_VECTORS)["fingerprint"])
        check(fingerprint == devset_fingerprint,
              f"the configured extractor {fingerprint} made the dev-set vectors "
              f"({devset_fingerprint})")
        with timed("dev-set photos, their copies and thumbnails written to media/"):
            photos, copies = photos_write(media)
        say(f"{len(photos)} photos and {len(copies) - len(photos)} copies in {media}")
        with timed("library converted (vectors, image rows, change log)"):
            converted = library_convert(work / "library.sqlite3", fingerprint, photos, copies,
                                        real_rows)
        total = FIGURES["images"] = converted["images"]
        serving_set(fingerprint)
        snapshots_write(fingerprint)
        from django.db import connection

        connection.close()
        FIGURES["disk: SQLite copy (GB)"] = round(
            (work / "library.sqlite3").stat().st_size / 1e9, 2)
        FIGURES["disk: snapshots (GB)"] = round(
            sum(p.stat().st_size for p in index.rglob("*") if p.is_file()) / 1e9, 2)

        with timed("viewer and API key made (manage.py create_user, create_api_key)"):
            password = secrets.token_urlsafe(18)
            say(manage(env, "create_user", USERNAME, "--role", "viewer", stdin=password + "\n")
                .strip())
            key = manage(env, "create_api_key", USERNAME, "--name", "million page check"
                         ).strip().splitlines()[-1]
        uploads = upload_queries(real_rows, work / "queries", args.uploads)

        if group is not None:
            # Read from disk by the server, so its reads are charged to its group.
            files_uncache(work)
            FIGURES["server: memory limit (GB)"] = args.memory
        server = Server(env, args.port, work / "serve.log", group=group)
        server.start()
        page_checks(server, password, args.shots, uploads, total)
        http_checks(server, key, uploads, total, args.calls)
        for pid in server.daphnes:
            if alive(pid):
                FIGURES[f"server: web process {pid} memory after the checks"] = memory(pid)
    except (Exception, KeyboardInterrupt) as exc:
        traceback.print_exc()
        FAILURES.append(f"the run stopped early: {type(exc).__name__}: {exc}")
    finally:
        try:
            if server is not None and server.process is not None:
                server.stop()
                args.shots.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(server.log_path, args.shots / "serve.log")
                worrying = [line for line in server.log_text().splitlines()
                            if re.search(r"ERROR|CRITICAL|Traceback|\" 5\d\d ", line)]
                check(not worrying, f"no error in the server's log ({len(worrying)} lines: "
                      f"{worrying[:20]})")
        finally:
            if group is not None:
                peak = group.peak()
                FIGURES["server: most memory bin/serve's processes used, page cache included "
                        "(GB)"] = "(unknown)" if peak is None else round(peak / (1 << 30), 2)
            server_group.close()

    print("\n== summary", flush=True)
    for name, value in FIGURES.items():
        print(f"{name}: {value}")
    print(f"screenshots and the page's requests: {args.shots}")
    if FAILURES:
        print(f"\n{len(FAILURES)} check(s) failed:")
        for failure in FAILURES:
            print(f"- {failure}")
    if args.keep or FAILURES:
        print(f"kept {work}" + (" (a check failed: look there)" if FAILURES else ""))
    else:
        shutil.rmtree(work)
        print(f"removed {work}")
    return 1 if FAILURES else 0


if __name__ == "__main__":
    sys.exit(main())
