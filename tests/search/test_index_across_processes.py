"""Rows written by other processes (feature workers, the admin, a second web process)
reach a web process's exact index at its next query, on a shared SQLite file."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).with_name("index_process.py")


@pytest.fixture
def shared_database(tmp_path):
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path / 'shared.sqlite3'}",
           "MEDIA_ROOT": str(tmp_path / "media")}
    subprocess.run([sys.executable, SCRIPT, "migrate"], env=env, check=True, timeout=120)
    return env


def other_process(env, *args) -> list[int]:
    done = subprocess.run([sys.executable, SCRIPT, *map(str, args)], env=env, check=True,
                          capture_output=True, text=True, timeout=120)
    return json.loads(done.stdout or "null")


def test_a_web_process_sees_what_other_processes_add_and_delete(shared_database):
    first = other_process(shared_database, "add", 0, 1, 2, 3)
    server = subprocess.Popen([sys.executable, SCRIPT, "serve"], env=shared_database,
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)

    def ask(line):
        server.stdin.write(line + "\n")
        server.stdin.flush()
        return json.loads(server.stdout.readline())

    try:
        assert ask("search 2")[0] == first[2]
        added = other_process(shared_database, "add", 50, 51)
        assert ask("search 51")[0] == added[1]
        other_process(shared_database, "delete", first[2], added[1])
        assert first[2] not in ask("search 2")
        assert added[1] not in ask("search 51")
        assert ask("search 50")[0] == added[0]
        assert ask("errors") == []
    finally:
        server.stdin.close()
        server.wait(timeout=60)
    assert server.returncode == 0
