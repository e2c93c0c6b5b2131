"""A featureworker process killed mid-job loses nothing and, restarted, finishes the job
with every image done exactly once (file-based SQLite, real processes)."""

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
IMAGES = 12
BATCH = 2

SETUP = f"""
from features.jobs import services
from features.extractors.loader import get_extractor
from gallery.services import image_create
from tests.helpers import make_image_bytes
for n in range({IMAGES}):
    image_create(name=f"photo-{{n}}.jpg", data=make_image_bytes(color=(n * 20, 90, 200 - n * 9)))
print(services.job_start(extractor=get_extractor())[0].pk)
"""


@pytest.fixture
def environment(tmp_path):
    env = {**os.environ,
           "DJANGO_SETTINGS_MODULE": "tests.settings",
           "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
           "MEDIA_ROOT": str(tmp_path / "media"),
           "FEATURE_EXTRACTOR": "tests.features.slow_extractor.SlowFakeExtractor",
           "FEATURE_FAKE_DELAY": "0.4",
           "FEATURE_FAKE_LOG": str(tmp_path / "batches.log"),
           "PYTHONDONTWRITEBYTECODE": "1"}
    manage = [sys.executable, "manage.py"]
    subprocess.run([*manage, "migrate", "--noinput", "-v", "0"], cwd=ROOT, env=env, check=True)
    done = subprocess.run([*manage, "shell", "-c", SETUP], cwd=ROOT, env=env, check=True,
                          capture_output=True, text=True)
    return env, int(done.stdout.strip().splitlines()[-1]), tmp_path


def query(tmp_path, sql):
    with sqlite3.connect(tmp_path / "db.sqlite3", timeout=20) as db:
        return db.execute(sql).fetchall()


def test_a_killed_worker_restarted_finishes_every_image_exactly_once(environment):
    env, job_id, tmp_path = environment
    worker = [sys.executable, "manage.py", "featureworker", "--batch-size", str(BATCH)]
    process = subprocess.Popen(worker, cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        while query(tmp_path, "select count(*) from features_featurevector")[0][0] < 4:
            assert time.monotonic() < deadline, "the worker made no progress"
            time.sleep(0.05)
        process.send_signal(signal.SIGKILL)  # no chance to clean up: a crash
        process.wait(10)
    finally:
        if process.poll() is None:
            process.kill()
    stored_at_kill = query(tmp_path, "select count(*) from features_featurevector")[0][0]
    claimed_at_kill = query(tmp_path, "select count(*) from features_featuretask "
                                      "where claimed_by != ''")[0][0]

    # At once: the new worker takes back what the dead one held (no claim timeout wait).
    subprocess.run([*worker, "--once"], cwd=ROOT, env=env, check=True, capture_output=True)

    assert 4 <= stored_at_kill < IMAGES and claimed_at_kill > 0
    vectors = query(tmp_path, "select image_id, count(*) from features_featurevector "
                              "group by image_id")
    assert len(vectors) == IMAGES and all(count == 1 for _, count in vectors)
    assert query(tmp_path, f"select state, total, done, failed from features_featurejob "
                           f"where id = {job_id}") == [("done", IMAGES, IMAGES, 0)]
    assert query(tmp_path, "select count(*) from features_featuretask") == [(0,)]
    # Only the batch in the model when the worker died was extracted a second time.
    extracted = sum(int(line) for line in (tmp_path / "batches.log").read_text().split())
    assert IMAGES <= extracted <= IMAGES + BATCH


def test_a_worker_asked_to_stop_gives_its_work_back_at_once(environment):
    env, job_id, tmp_path = environment
    process = subprocess.Popen([sys.executable, "manage.py", "featureworker", "--batch-size",
                                str(BATCH)], cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                               stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    while query(tmp_path, "select count(*) from features_featurevector")[0][0] < 2:
        assert time.monotonic() < deadline, "the worker made no progress"
        time.sleep(0.05)

    process.send_signal(signal.SIGTERM)
    assert process.wait(20) == 0

    assert query(tmp_path, "select count(*) from features_featuretask where claimed_by != ''") \
        == [(0,)]
    done = query(tmp_path, f"select done from features_featurejob where id = {job_id}")[0][0]
    assert query(tmp_path, "select count(*) from features_featurevector") == [(done,)]
    assert done < IMAGES
