"""Schemathesis against a live ImageSim, from its own OpenAPI schema, with a valid key.

Every operation gets generated requests (valid and invalid), bounded in examples and
time; no answer may be a 5xx, and every answer must match the schema. The server is a
real daphne process on 127.0.0.1 with its own SQLite file, media folder and the fake
extractor, so deletes and uploads touch nothing else.
"""

import re
import subprocess
import sys
from pathlib import Path

import pytest
import requests

from devstack.cluster import Cluster, cluster_env
from tests.helpers import make_image_bytes

EXAMPLES = 12
SECONDS = 100


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    folder = tmp_path_factory.mktemp("fuzz")
    cluster = Cluster(env=cluster_env(database=f"sqlite:///{folder / 'db.sqlite3'}", extra={
        "MEDIA_ROOT": str(folder / "media"),
        "FEATURE_EXTRACTOR": "features.extractors.fake.FakeExtractor",
        "FEATURE_EMBEDDED_WORKER": "true",
        "RATE_UPLOADS": "100000/min", "RATE_SEARCH_UPLOAD": "100000/min",
        "RATE_KEY_CREATE": "100000/min",
    }), logs=folder)
    cluster.set_up()
    try:
        url = cluster.start_web()
        files = [("file", (f"seed-{n}.png", make_image_bytes("PNG", color=(n * 50, 9, 9)),
                           "image/png")) for n in range(4)]
        requests.post(f"{url}/api/v1/images/", files=files, timeout=30,
                      headers={"Authorization": f"Bearer {cluster.key}"}).raise_for_status()
        yield url, cluster
    finally:
        cluster.stop()


def test_no_operation_answers_5xx_or_leaves_its_schema(server, tmp_path):
    url, cluster = server
    report = tmp_path / "junit.xml"

    done = subprocess.run([
        str(Path(sys.executable).with_name("schemathesis")), "run",
        f"{url}/api/schema/?format=json", "--url", url,
        "--header", f"Authorization: Bearer {cluster.key}",
        "--checks", "not_a_server_error,response_schema_conformance,content_type_conformance",
        "--max-examples", str(EXAMPLES), "--max-time", str(SECONDS),
        "--phases", "examples,coverage,fuzzing", "--seed", "1", "--no-shrink",
        "--generation-database", "none", "--workers", "1", "--request-timeout", "30",
        "--report", "junit", "--report-junit-path", str(report), "--no-color",
    ], capture_output=True, text=True, timeout=SECONDS + 120)

    assert done.returncode == 0, done.stdout[-6000:] + done.stderr[-2000:]
    # The server's own access log agrees: of all it answered, nothing was a 5xx.
    access = (Path(cluster.logs) / "web-1.log").read_text(errors="replace")
    assert len(re.findall(r'" \d{3} \d+$', access, flags=re.MULTILINE)) > 1000
    failures = [line for line in access.splitlines() if re.search(r'" 5\d\d \d+$', line)]
    assert failures == [], _context(access, failures[0])


def _context(log: str, line: str) -> str:
    """The log before a failing request: its traceback says what went wrong."""
    end = log.index(line) + len(line)
    return log[max(0, end - 6000):end]
