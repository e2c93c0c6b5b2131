"""bin/serve's server (imagesim/serve.py): several daphne processes on one address."""

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path

import pytest

from devstack.stack import free_port, process_stop
from tests.browser.server import ROOT, _manage, server_env
from tests.helpers import make_image_bytes

MAKE_KEY = """
from accounts.services import user_create
from accounts.keys import api_key_create
user = user_create(username="ed", role="editor", password="serve-tests-only-Pa55")
print(api_key_create(user=user, name="serve test")[1])
"""


def children(pid: int) -> list[int]:
    return [int(child) for task in Path(f"/proc/{pid}/task").iterdir()
            for child in (task / "children").read_text().split()]


def answer(url: str, *, data: bytes | None = None, headers: dict | None = None) -> tuple[int, dict]:
    request = urllib.request.Request(url, data=data, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=20) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


@pytest.fixture
def serve(tmp_path):
    started = []

    def start(processes: int, **extra) -> tuple[subprocess.Popen, str]:
        env = {**server_env(tmp_path, tmp_path / "static"), "LOG_LEVEL": "WARNING", **extra}
        _manage(env, "migrate", "--noinput", "--verbosity", "0")
        port = free_port()
        process = subprocess.Popen([sys.executable, "-m", "imagesim.serve", "--host", "127.0.0.1",
                                    "--port", str(port), "--processes", str(processes)],
                                   cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                                   stderr=subprocess.DEVNULL)
        started.append(process)
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while len(children(process.pid)) < processes or answer_or_none(url) is None:
            assert process.poll() is None and time.monotonic() < deadline, "bin/serve did not start"
            time.sleep(0.3)
        return process, url

    yield start
    for process in started:
        process_stop(process)


def answer_or_none(url: str):
    try:
        return answer(url + "/api/v1/features/status/")
    except (urllib.error.URLError, ConnectionError, TimeoutError):
        return None


def test_the_processes_share_the_address_and_the_rate_limits_and_stop_together(serve, tmp_path):
    server, url = serve(2, RATE_SEARCH_UPLOAD="3/min")
    env = server_env(tmp_path, tmp_path / "static")
    key = subprocess.run([sys.executable, "manage.py", "shell", "-c", MAKE_KEY], cwd=ROOT,
                         env=env, check=True, capture_output=True, text=True).stdout.split()[-1]
    boundary = uuid.uuid4().hex
    body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"files\"; "
            f"filename=\"q.jpg\"\r\nContent-Type: image/jpeg\r\n\r\n").encode() \
        + make_image_bytes() + f"\r\n--{boundary}--\r\n".encode()
    headers = {"Authorization": f"Bearer {key}",
               "Content-Type": f"multipart/form-data; boundary={boundary}"}
    daphnes = children(server.pid)

    # Each search a new connection, taken by whichever process accepts it first.
    answers = [answer(url + "/api/v1/search/", data=body, headers=headers) for _ in range(8)]

    assert len(daphnes) == 2
    # Three model runs a minute for the whole server (an empty library answers 409).
    assert [status for status, _ in answers] == [409] * 3 + [429] * 5
    assert answers[-1][1]["detail"].startswith("Too many requests of this kind: try again in")
    server.send_signal(signal.SIGTERM)
    assert server.wait(timeout=30) == 0
    for pid in daphnes:
        assert not Path(f"/proc/{pid}").exists() or "Z" in Path(f"/proc/{pid}/stat").read_text().split()[2]


def test_when_one_process_dies_the_others_stop_and_it_exits_with_a_failure(serve):
    server, url = serve(2)
    first, second = children(server.pid)

    os.kill(second, signal.SIGKILL)

    assert server.wait(timeout=30) != 0
    assert answer_or_none(url) is None
    assert not Path(f"/proc/{first}").exists()


@pytest.mark.parametrize("reuse_port", [False, True])
def test_an_address_in_use_is_refused_in_one_line(reuse_port):
    with socket.create_server(("127.0.0.1", 0), reuse_port=reuse_port) as taken:
        port = taken.getsockname()[1]
        done = subprocess.run([sys.executable, "-m", "imagesim.serve", "--host", "127.0.0.1",
                               "--port", str(port), "--processes", "2"], cwd=ROOT,
                              capture_output=True, text=True, timeout=60)

    assert done.returncode != 0
    assert done.stderr.strip() == (f"ImageSim cannot listen on 127.0.0.1:{port}: Address already "
                                   "in use (another server there? set PORT)")
