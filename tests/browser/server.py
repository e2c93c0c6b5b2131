"""A live ImageSim for the browser tests: the real app under daphne, in its own process.

Why a subprocess rather than Channels' ChannelsLiveServerTestCase: the page needs the
whole production stack (ASGI with websockets, WhiteNoise serving collected static
files, the embedded feature worker running in the server process), and a separate
process gets exactly that, with its own SQLite file and media folder, without
sharing a database connection or an event loop with the test process.
"""

import json
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from devstack.cluster import cluster_env
from devstack.stack import free_port, process_stop

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts" / "browser"
ORIGINALS = ROOT.parent / "shared" / "data" / "originals"
# The originals go in without vectors and without being queued (as in a library made
# before features existed), so "Generate features" has work to do.
SEED_ORIGINALS = """
import sys
from pathlib import Path
from gallery.services import image_create
from gallery.signals import images_added
assert images_added.disconnect(dispatch_uid="features-queue-uploads")
folder = Path(sys.argv[1])
for path in sorted(folder.glob("*.jpg")):
    image_create(name=path.name, data=path.read_bytes(), is_original=True, filename=path.name)
"""
# Everyone signs in: the accounts the tests sign in with, one of each role (two editors,
# to see that an editor may delete only their own uploads). All share one password.
PASSWORD = "browser-tests-only-Pa55"
ADMIN = "ada"
USERS = {ADMIN: "admin", "eddie": "editor", "erin": "editor", "vera": "viewer"}
CREATE_USERS = """
from accounts.services import user_create
for username, role in USERS.items():
    user_create(username=username, role=role, password=PASSWORD)
"""


@dataclass
class LiveServer:
    url: str
    folder: Path
    log_path: Path
    process: subprocess.Popen = field(repr=False)

    def stop(self) -> None:
        process_stop(self.process)


def server_env(folder: Path, static_root: Path) -> dict:
    return cluster_env(database=f"sqlite:///{folder / 'db.sqlite3'}", extra={
        "SECRET_KEY": "browser-tests-only-" + "x" * 40,
        "MEDIA_ROOT": str(folder / "media"),
        "STATIC_ROOT": str(static_root),
        "FEATURE_EXTRACTOR": "features.extractors.fake.FakeExtractor",
        "FEATURE_EMBEDDED_WORKER": "true",
        "LOG_LEVEL": "WARNING",
    })


def _manage(env: dict, *args: str) -> None:
    subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=env, check=True,
                   stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=300)


def collect_static(static_root: Path) -> None:
    env = server_env(static_root.parent, static_root)
    _manage(env, "collectstatic", "--noinput", "--verbosity", "0")


def start_server(folder: Path, *, static_root: Path, log_dir: Path, seed_originals: bool,
                 users: dict | None = None, extra_env: dict | None = None) -> LiveServer:
    """Migrate a fresh database, optionally add the shipped originals, make the accounts
    (``users``, name -> role, all with PASSWORD; USERS unless told, none with ``{}``: a new
    install) and serve it (with ``extra_env`` on top of the usual settings, e.g. another
    MAX_UPLOAD_MB or ANONYMOUS_ACCESS)."""
    folder.mkdir(parents=True, exist_ok=True)
    env = {**server_env(folder, static_root), **(extra_env or {})}
    _manage(env, "migrate", "--noinput", "--verbosity", "0")
    users = USERS if users is None else users
    setup = []  # one shell for all of it: each start of Django costs a second
    if seed_originals:
        if len(list(ORIGINALS.glob("*.jpg"))) != 50:
            raise RuntimeError(f"The browser tests need the 50 originals in {ORIGINALS} "
                               "(the shared data folder beside the project).")
        setup.append(SEED_ORIGINALS.replace("sys.argv[1]", repr(str(ORIGINALS))))
    if users:
        setup.append(f"USERS = {json.dumps(users)}\nPASSWORD = {PASSWORD!r}\n{CREATE_USERS}")
    if setup:
        _manage(env, "shell", "-c", "\n".join(setup))
    return serve(folder, env=env, log_dir=log_dir)


def serve(folder: Path, *, env: dict, log_dir: Path, cwd: Path = ROOT) -> LiveServer:
    """Run daphne in ``cwd`` (the project) with ``env`` on a free port, once it answers."""
    port = free_port()
    log_dir.mkdir(parents=True, exist_ok=True)
    log_path = log_dir / f"server-{folder.name}.log"
    log = open(log_path, "wb")  # noqa: SIM115 - the server process owns it until it stops
    process = subprocess.Popen(
        [sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(port),
         "imagesim.asgi:application"],
        cwd=cwd, env=env, stdout=log, stderr=subprocess.STDOUT,
    )
    server = LiveServer(url=f"http://127.0.0.1:{port}", folder=folder, log_path=log_path,
                        process=process)
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"The server exited early:\n{log_path.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(server.url + "/", timeout=2) as response:
                if response.status == 200:
                    return server
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            time.sleep(0.3)
    server.stop()
    raise RuntimeError(f"The server did not answer in time:\n{log_path.read_text()[-3000:]}")
