"""The web server under load: requests a second and p50/p99 per kind, for each way of
getting in (API key, signed-in session, anonymous with ANONYMOUS_ACCESS=read), so the
cost of each layer shows.

    source bin/shared-weights; .venv/bin/python bench/load.py [--clients 50] [--seconds 60]
    .venv/bin/python bench/load.py --quick                      # a short check that it works
    mkdir /tmp/base && git archive main | tar -x -C /tmp/base     # an earlier version...
    .venv/bin/python bench/load.py --baseline /tmp/base         # ...measured in the same run

The server is as bin/serve runs it (imagesim/serve.py: daphne in WEB_PROCESSES processes,
one per core unless --processes says; a checkout without it, one daphne process) with DEBUG
off, SQLite, a local media folder and the embedded feature worker, on 127.0.0.1, with a library of --images small photos, each with its
thumbnail and a vector (made up: search compares them the same), their later stages
(augmentation, labels, duplicates) caught up. The model is the real ResNet50 when
FEATURE_WEIGHTS is set, else the small fake extractor (said at the top). Each client keeps
one connection and sends, one after another, a random choice of: a page of the library
list, a thumbnail, a search by library image and a search by upload (a small JPEG).
Search-by-upload's rate limit is lifted: this measures the server, not the limit.

With --baseline DIR (another checkout of ImageSim) both servers run side by side over
copies of one library, and their rounds alternate, so both see the same machine load.
--py-spy FILE records the (last) server under py-spy (``pip install py-spy``; not a
requirement) into FILE: collapsed stacks of the threads holding the GIL, in every process.
"""

import argparse
import asyncio
import io
import os
import random
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp
import numpy as np
from PIL import Image

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from devstack.cluster import cluster_env  # noqa: E402
from devstack.stack import free_port, process_stop, wait_for_port  # noqa: E402

KINDS = ("list page", "thumbnail", "search by image", "search by upload")
PASSWORD = "load-bench-only-Pa55"
CSRF_TOKEN = "b" * 32
# Run by manage.py shell in the library's folder: made-up photos with thumbnails and
# vectors, the later stages caught up, a viewer with a key and a session. Prints the key
# and the session's id.
SEED = """
import io
import numpy as np
from PIL import Image as Picture
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.contrib.sessions.backends.db import SessionStore
from accounts.keys import api_key_create
from accounts.services import user_create
from features.extractors.loader import get_extractor
from features.jobs.stages import stages_run
from features.originals import vectors_store
from gallery.services import image_create
from gallery.signals import images_added

assert images_added.disconnect(dispatch_uid="features-queue-uploads")
rng = np.random.default_rng(0)
extractor = get_extractor()
vectors = {}
for n in range(COUNT):
    noise = rng.integers(0, 256, (24, 32, 3), dtype=np.uint8)
    buffer = io.BytesIO()
    Picture.fromarray(noise).resize((320, 240)).save(buffer, "JPEG", quality=85)
    image = image_create(name=f"photo-{n:05d}.jpg", data=buffer.getvalue()).image
    vectors[image.pk] = rng.standard_normal(extractor.dim).astype(np.float32)
vectors_store(extractor=extractor.fingerprint, vectors=vectors)
stages_run(extractor=extractor.fingerprint, idle=True)
user = user_create(username="reader", role="viewer", password=PASSWORD)
_, key = api_key_create(user=user, name="load")
session = SessionStore()
session[SESSION_KEY] = str(user.pk)
session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
session[HASH_SESSION_KEY] = user.get_session_auth_hash()
session.create()
print(key)
print(session.session_key)
"""


@dataclass
class Server:
    name: str
    code: Path
    folder: Path
    env: dict
    url: str = ""
    process: subprocess.Popen | None = None
    key: str = ""
    session: str = ""
    py_spy: bool = False
    thumbnails: list = field(default_factory=list)
    image_ids: list = field(default_factory=list)

    def manage(self, *args: str) -> str:
        done = subprocess.run([sys.executable, "manage.py", *args], cwd=self.code, env=self.env,
                              capture_output=True, text=True, timeout=1800)
        if done.returncode:
            raise RuntimeError(f"manage.py {args[0]} failed:\n{done.stderr[-3000:]}")
        return done.stdout

    def start(self, py_spy: str = "") -> None:
        self.py_spy = bool(py_spy)
        port = free_port()
        if (self.code / "imagesim" / "serve.py").exists():
            command = [sys.executable, "-m", "imagesim.serve", "--host", "127.0.0.1",
                       "--port", str(port)]
        else:
            command = [sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(port),
                       "imagesim.asgi:application"]
        if py_spy:
            command = [shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy"),
                       "record", "--format", "raw", "--rate", "50", "--threads", "--gil",
                       "--subprocesses", "-o", py_spy, "--", *command]
        log = open(self.folder / "server.log", "wb")  # noqa: SIM115 - the server owns it
        self.process = subprocess.Popen(command, cwd=self.code, env=self.env, stdout=log,
                                        stderr=subprocess.STDOUT)
        wait_for_port(port, self.process, "daphne", seconds=120)
        self.url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 300  # the first start converts the model (minutes)
        while True:  # answering, with the model and index warmed up
            try:
                with urllib.request.urlopen(self.url + "/api/v1/features/status/", timeout=5):
                    pass
            except urllib.error.HTTPError:
                pass
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                time.sleep(0.5)
                continue
            log_text = (self.folder / "server.log").read_text(errors="replace")
            if "Search warmed up" in log_text or time.monotonic() > deadline:
                break
            time.sleep(0.5)

    @property
    def pid(self) -> int:
        """The server's own process (py-spy's child when recorded)."""
        children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        if self.py_spy and children.exists() and children.read_text().split():
            return int(children.read_text().split()[0])
        return self.process.pid

    def cpu_seconds(self) -> float:
        """CPU time of the server's processes (bin/serve's and each of its daphnes)."""
        total, pending = 0.0, [self.pid]
        while pending:
            pid = pending.pop()
            try:
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
                tasks = list(Path(f"/proc/{pid}/task").iterdir())
            except OSError:  # ended meanwhile
                continue
            total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
            for task in tasks:
                try:
                    pending += [int(child) for child in (task / "children").read_text().split()]
                except OSError:
                    pass
        return total

    def stop(self) -> None:
        if self.process is not None:
            if self.pid != self.process.pid:  # py-spy writes its file once the server ends
                os.kill(self.pid, signal.SIGTERM)
            process_stop(self.process, timeout=30)


def server_env(folder: Path, real_model: bool) -> dict:
    env = cluster_env(database=f"sqlite:///{folder / 'db.sqlite3'}", extra={
        "SECRET_KEY": "load-bench-only-" + "k" * 50,
        "MEDIA_ROOT": str(folder / "media"),
        "FEATURE_EMBEDDED_WORKER": "true",
        "ANONYMOUS_ACCESS": "read",
        "RATE_SEARCH_UPLOAD": "1000000/min",
        "LOG_LEVEL": "INFO",  # the default; the start waits for "Search warmed up"
        # Every server (a baseline's too) uses the model converted once for this checkout.
        "FEATURE_MODEL_CACHE": os.environ.get("FEATURE_MODEL_CACHE") or str(ROOT / "var" / "models"),
    })
    if not real_model:
        env.update({"FEATURE_EXTRACTOR": "features.extractors.fake.FakeExtractor",
                    "LABEL_HEAD_WEIGHTS": "off"})
    return env


def library_seed(server: Server, count: int) -> None:
    server.manage("migrate", "--noinput", "--verbosity", "0")
    script = SEED.replace("COUNT", str(count)).replace("PASSWORD", repr(PASSWORD))
    server.key, server.session = server.manage("shell", "-c", script).strip().splitlines()[-2:]


def library_copy(source: Server, name: str, code: Path, folder: Path, real_model: bool) -> Server:
    shutil.copytree(source.folder, folder)
    return Server(name=name, code=code, folder=folder, env=server_env(folder, real_model),
                  key=source.key, session=source.session)


def query_photos() -> list[bytes]:
    rng = np.random.default_rng(1)
    photos = []
    for _ in range(8):
        buffer = io.BytesIO()
        noise = rng.integers(0, 256, (24, 32, 3), dtype=np.uint8)
        Image.fromarray(noise).resize((320, 240)).save(buffer, "JPEG", quality=85)
        photos.append(buffer.getvalue())
    return photos


def access_headers(server: Server, access: str) -> dict:
    if access == "API key":
        return {"Authorization": f"Bearer {server.key}"}
    if access == "session":
        return {"Cookie": f"sessionid={server.session}; csrftoken={CSRF_TOKEN}",
                "X-CSRFToken": CSRF_TOKEN}
    return {}


async def library_read(server: Server) -> None:
    """The thumbnails and image ids the clients pick from."""
    headers = access_headers(server, "API key")
    async with aiohttp.ClientSession(headers=headers) as http:
        page = 1
        while True:
            async with http.get(f"{server.url}/api/v1/images/?page={page}&page_size=100") as answer:
                body = await answer.json()
            server.thumbnails += [image["thumbnail_url"] for image in body["results"]]
            server.image_ids += [image["id"] for image in body["results"]]
            if not body["next"]:
                break
            page += 1


async def load_run(server: Server, access: str, clients: int, seconds: float,
                   photos: list[bytes]) -> dict:
    """Every client loops until the time is up; returns {kind: [(status, seconds)]}."""
    timings = {kind: [] for kind in KINDS}
    pages = max(1, len(server.image_ids) // 60)
    connector = aiohttp.TCPConnector(limit=clients)
    timeout = aiohttp.ClientTimeout(total=120)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout,
                                     headers=access_headers(server, access)) as http:
        stop_at = time.monotonic() + seconds

        async def one(kind: str, rng: random.Random) -> int:
            if kind == "list page":
                request = http.get(f"{server.url}/api/v1/images/?page={rng.randint(1, pages)}")
            elif kind == "thumbnail":
                request = http.get(server.url + rng.choice(server.thumbnails))
            elif kind == "search by image":
                request = http.post(f"{server.url}/api/v1/search/",
                                    json={"image_id": rng.choice(server.image_ids)})
            else:
                form = aiohttp.FormData()
                form.add_field("file", rng.choice(photos), filename="query.jpg",
                               content_type="image/jpeg")
                request = http.post(f"{server.url}/api/v1/search/", data=form)
            async with request as answer:
                await answer.read()
                return answer.status

        async def client(n: int) -> None:
            rng = random.Random(n)
            while time.monotonic() < stop_at:
                kind = rng.choice(KINDS)
                began = time.perf_counter()
                try:
                    status = await one(kind, rng)
                except (aiohttp.ClientError, asyncio.TimeoutError):
                    status = 0
                timings[kind].append((status, time.perf_counter() - began))

        await asyncio.gather(*(client(n) for n in range(clients)))
    return timings


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def report(server: Server, access: str, timings: dict, seconds: float, load: tuple,
           cpu: float, client_cpu: float) -> float:
    total = sum(len(v) for v in timings.values())
    failed = sum(1 for v in timings.values() for status, _ in v if status not in (200, 304))
    rate = total / seconds
    print(f"{server.name:<9} {access:<9} {rate:6.1f} requests/s, server CPU "
          f"{cpu / max(total, 1) * 1000:.1f} ms a request, the clients' "
          f"{client_cpu / max(total, 1) * 1000:.1f} ms ({total} in {seconds:.0f} s, {failed} "
          f"failed; load average {load[0]:.1f} -> {os.getloadavg()[0]:.1f})", flush=True)
    for kind, results in timings.items():
        if not results:
            continue
        times = [t for _, t in results]
        statuses = sorted({status for status, _ in results if status not in (200, 304)})
        print(f"    {kind:<17} {len(results) / seconds:6.1f}/s  p50 "
              f"{statistics.median(times) * 1000:6.0f} ms  p99 {percentile(times, 0.99) * 1000:6.0f}"
              f" ms" + (f"  failed with {statuses}" if statuses else ""), flush=True)
    return rate


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--images", type=int, default=2000)
    parser.add_argument("--quick", action="store_true", help="10 clients, 5 s, 200 images")
    parser.add_argument("--baseline", type=Path, help="another ImageSim checkout to compare")
    parser.add_argument("--access", default="API key,session,anonymous",
                        help="comma-separated rounds: API key, session, anonymous")
    parser.add_argument("--py-spy", default="", help="record the last server into this file")
    parser.add_argument("--processes", type=int, default=0,
                        help="WEB_PROCESSES of every server (0: one per core)")
    args = parser.parse_args()
    if args.processes:
        os.environ["WEB_PROCESSES"] = str(args.processes)
    if args.quick:
        args.clients, args.seconds, args.images = 10, 5, 200
    clients = max(1, min(args.clients, 500))  # bounded: this is a loopback check
    real_model = bool(os.environ.get("FEATURE_WEIGHTS"))
    accesses = [a.strip() for a in args.access.split(",")]
    processes = os.environ.get("WEB_PROCESSES") or f"{os.cpu_count()} (one per core)"
    print(f"{clients} clients for {args.seconds:.0f} s per round against bin/serve's daphne "
          f"processes ({processes}) on 127.0.0.1, "
          f"{args.images} images, {'the real ResNet50' if real_model else 'the fake extractor'}"
          f", {os.cpu_count()} CPU cores, load average {os.getloadavg()[0]:.1f}", flush=True)
    photos = query_photos()
    with tempfile.TemporaryDirectory(prefix="imagesim-load-") as temp:
        folder = Path(temp) / "this"
        folder.mkdir()
        this = Server(name="this", code=ROOT, folder=folder, env=server_env(folder, real_model))
        began = time.monotonic()
        library_seed(this, args.images)
        print(f"library seeded in {time.monotonic() - began:.0f} s", flush=True)
        servers = [this]
        if args.baseline:
            servers.insert(0, library_copy(this, "baseline", args.baseline.resolve(),
                                           Path(temp) / "baseline", real_model))
        try:
            for server in servers:
                server.start(args.py_spy if server is servers[-1] else "")
                asyncio.run(library_read(server))
                # Warm: the first requests of a process set up what later ones reuse.
                asyncio.run(load_run(server, accesses[0], clients, min(5.0, args.seconds), photos))
            rates, costs = {}, {}
            for access in accesses:
                for server in servers:
                    load, cpu = os.getloadavg(), server.cpu_seconds()
                    mine = time.process_time()
                    timings = asyncio.run(load_run(server, access, clients, args.seconds, photos))
                    cpu, mine = server.cpu_seconds() - cpu, time.process_time() - mine
                    rates[server.name, access] = report(server, access, timings, args.seconds,
                                                        load, cpu, mine)
                    count = sum(len(results) for results in timings.values())
                    costs[server.name, access] = cpu / max(count, 1) * 1000
            if args.baseline:
                for access in accesses:
                    ratio = rates["this", access] / max(rates["baseline", access], 1e-9)
                    print(f"{access:<9} this {rates['this', access]:.1f} requests/s against "
                          f"baseline {rates['baseline', access]:.1f}: {ratio:.2f}x; server CPU "
                          f"{costs['this', access]:.1f} ms a request against "
                          f"{costs['baseline', access]:.1f}")
        finally:
            for server in servers:
                server.stop()


if __name__ == "__main__":
    main()
