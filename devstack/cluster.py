"""ImageSim as a scale-out deployment on this machine: web processes (daphne) and
feature workers over one PostgreSQL, Redis and S3 (devstack/stack.py), for bin/stack and
the stack tests. Every process binds to 127.0.0.1 and is stopped by ``stop()``."""

import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from devstack.stack import free_port, process_stop, wait_for_port

ROOT = Path(__file__).resolve().parents[1]
ADMIN_PASSWORD = "stack-admin-passphrase"


@dataclass
class Cluster:
    env: dict
    logs: Path
    webs: list = field(default_factory=list)  # (url, process)
    workers: list = field(default_factory=list)
    key: str = ""

    def manage(self, *args: str, stdin: str = "", env: dict | None = None) -> str:
        done = subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT,
                              env={**self.env, **(env or {})}, input=stdin,
                              capture_output=True, text=True, timeout=300)
        if done.returncode:
            raise RuntimeError(f"manage.py {' '.join(args)} failed:\n{done.stderr[-3000:]}")
        return done.stdout

    def set_up(self, *, admin: bool = True) -> None:
        """Migrate; with ``admin``, make an administrator with an API key (self.key)."""
        self.manage("migrate", "--noinput", "--verbosity", "0")
        if admin:
            self.manage("create_user", "admin", "--role", "admin",
                        stdin=ADMIN_PASSWORD + "\n")
            self.key = self.manage("create_api_key", "admin", "--name", "stack") \
                .strip().splitlines()[-1]

    def _start(self, name: str, command: list[str], env: dict | None = None):
        log = open(self.logs / f"{name}.log", "wb")  # noqa: SIM115 - the process owns it
        return subprocess.Popen(command, cwd=ROOT, env={**self.env, **(env or {})},
                                stdout=log, stderr=subprocess.STDOUT)

    def start_web(self, env: dict | None = None) -> str:
        port = free_port()
        process = self._start(f"web-{len(self.webs) + 1}", [
            sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(port),
            "imagesim.asgi:application"], env)
        wait_for_port(port, process, "daphne", seconds=90)
        url = f"http://127.0.0.1:{port}"
        self.webs.append((url, process))
        _wait_until_answering(url)
        return url

    def start_worker(self, env: dict | None = None) -> None:
        process = self._start(f"worker-{len(self.workers) + 1}", [
            sys.executable, "manage.py", "featureworker", "--poll", "0.5"], env)
        self.workers.append(process)

    def stop(self) -> None:
        processes = [*self.workers, *(process for _, process in self.webs)]
        for process in processes:  # all at once: each may take a while to finish its work
            if process.poll() is None:
                process.terminate()
        for process in processes:
            process_stop(process, timeout=20)


def _wait_until_answering(url: str, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            # An API path: pages need collected static files, which a test stack lacks.
            with urllib.request.urlopen(url + "/api/v1/features/status/", timeout=2):
                return
        except urllib.error.HTTPError:
            return  # it answers
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            time.sleep(0.3)
    raise RuntimeError(f"{url} did not answer within {seconds} s")


def cluster_env(*, database: str, redis: str = "", s3: dict | None = None,
                extra: dict | None = None) -> dict:
    """The environment of every process of the deployment; ``extra`` goes on top."""
    env = {key: value for key, value in os.environ.items()
           if key not in ("DJANGO_SETTINGS_MODULE", "DATABASE_URL", "REDIS_URL")}
    env.update({
        "DJANGO_SETTINGS_MODULE": "imagesim.settings",
        "SECRET_KEY": os.environ.get("SECRET_KEY") or "stack-only-" + "s" * 45,
        "DEBUG": "false",
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "DATABASE_URL": database,
        "REDIS_URL": redis,
        **(s3 or {}),
        "FEATURE_EMBEDDED_WORKER": "false",
        "LOG_LEVEL": os.environ.get("LOG_LEVEL", "WARNING"),
        "PYTHONDONTWRITEBYTECODE": "1",
        **(extra or {}),
    })
    return env
