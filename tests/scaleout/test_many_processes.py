"""Two web processes and two feature workers over PostgreSQL, Redis and S3.

Uploads through both web processes while the workers run; every image gets exactly one
vector, a browser's websocket on the other web process sees the progress, the bucket
holds exactly the files the database names, a websocket stays open for minutes, and
the deployment rides out Redis restarting and S3 refusing writes.
"""

import io
import json
import threading
import time

import psycopg
import pytest
import requests
from PIL import Image as PILImage
from websockets.sync.client import connect

from devstack.stack import bucket_keys

IMAGES = 200
PER_REQUEST = 10


def png(n: int) -> bytes:
    picture = PILImage.new("RGB", (24, 16), (n * 37 % 256, n * 91 % 256, n * 13 % 256))
    picture.putpixel((n % 24, n // 24 % 16), (255 - n % 256, n % 7, 3))
    out = io.BytesIO()
    picture.save(out, "PNG")
    return out.getvalue()


def upload(stack, web: str, numbers: list[int]) -> requests.Response:
    files = [("file", (f"photo-{n}.png", png(n), "image/png")) for n in numbers]
    return requests.post(f"{web}/api/v1/images/", files=files, timeout=60,
                         headers={"Authorization": f"Bearer {stack.key}"})


def status(stack) -> dict:
    web = stack.webs[0][0]
    return requests.get(f"{web}/api/v1/features/status/", timeout=10,
                        headers={"Authorization": f"Bearer {stack.key}"}).json()


def wait_for_vectors(stack, count: int, seconds: float = 180) -> dict:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        counts = status(stack)["counts"]
        if counts["with_vectors"] >= count and counts["pending"] == 0:
            return counts
        time.sleep(0.5)
    raise AssertionError(f"Not all vectors in {seconds} s: {status(stack)}")


def query(stack, sql: str) -> list[tuple]:
    with psycopg.connect(stack.env["DATABASE_URL"]) as connection:
        return connection.execute(sql).fetchall()


class Listener:
    """A websocket to /ws/features/ (as a script would open it, with its key), reading
    every event in a thread."""

    def __init__(self, stack, web: str):
        host = web.removeprefix("http://")
        self.socket = connect(f"ws://{host}/ws/features/", origin=web,
                              additional_headers={"Authorization": f"Bearer {stack.key}"})
        self.opened = time.monotonic()
        self.events, self.closed = [], threading.Event()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        try:
            while True:
                self.events.append(json.loads(self.socket.recv()))
        except Exception:  # closed, by either side
            pass
        self.closed.set()

    def wait_for(self, predicate, seconds: float = 60) -> dict:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            for event in list(self.events):
                if predicate(event):
                    return event
            if self.closed.is_set():
                raise AssertionError(f"The websocket closed; it had {self.events[-3:]}")
            time.sleep(0.1)
        raise AssertionError(f"No such event in {seconds} s; last: {self.events[-3:]}")


def all_done(total):
    return lambda event: (event["type"] in ("complete", "status") and event.get("counts")
                          and event["counts"]["with_vectors"] == total
                          and event["counts"]["pending"] == 0)


@pytest.fixture(scope="module")
def listener(stack):
    listener = Listener(stack, stack.webs[1][0])
    yield listener
    listener.socket.close()


def test_uploads_through_both_web_processes_are_each_extracted_once(stack, listener):
    listener.wait_for(lambda event: event["type"] == "status")
    batches = [list(range(start, start + PER_REQUEST)) for start in range(0, IMAGES, PER_REQUEST)]
    for number, batch in enumerate(batches):
        web = stack.webs[number % 2][0]
        assert upload(stack, web, batch).status_code == 201

    counts = wait_for_vectors(stack, IMAGES)

    assert counts["with_vectors"] == IMAGES and counts["failed"] == 0
    per_image = query(stack, "SELECT i.id, count(v.id) FROM gallery_image i LEFT JOIN "
                             "features_featurevector v ON v.image_id = i.id GROUP BY i.id")
    assert len(per_image) == IMAGES and {n for _, n in per_image} == {1}
    extracted = (stack.folder / "extracted.log").read_text().split()
    assert sum(map(int, extracted)) == IMAGES  # no image went through the model twice
    assert {name for name, in query(stack, "SELECT claimed_by FROM features_featuretask")} \
        == set()
    # The websocket is on the web process the last upload did not go through.
    assert listener.wait_for(all_done(IMAGES))
    assert any(event["type"] == "progress" for event in listener.events)


def test_the_bucket_holds_exactly_the_files_the_database_names(stack):
    named = {name for row in query(stack, "SELECT file, thumbnail FROM gallery_image")
             for name in row}

    assert bucket_keys(stack.env) == sorted(named)
    assert len(named) == 2 * IMAGES


def test_files_are_served_through_either_web_process_and_never_by_a_public_bucket(stack):
    (filename,) = query(stack, "SELECT filename FROM gallery_image LIMIT 1")[0]
    headers = {"Authorization": f"Bearer {stack.key}"}

    served = [requests.get(f"{web}/images/{filename}", headers=headers, timeout=10)
              for web, _ in stack.webs]
    anonymous_bucket = requests.get(
        f"{stack.env['AWS_S3_ENDPOINT_URL']}/{stack.env['AWS_STORAGE_BUCKET_NAME']}/"
        f"images/{filename}", timeout=10)

    assert [response.status_code for response in served] == [200, 200]
    assert served[0].content == served[1].content and served[0].content.startswith(b"\x89PNG")
    assert anonymous_bucket.status_code == 403


def test_a_websocket_stays_open_for_two_minutes(stack, listener):
    time.sleep(max(0.0, 120 - (time.monotonic() - listener.opened)))
    assert upload(stack, stack.webs[0][0], [IMAGES]).status_code == 201

    assert listener.wait_for(all_done(IMAGES + 1))
    assert time.monotonic() - listener.opened >= 120


def test_progress_resumes_after_redis_restarts_and_nothing_is_lost(stack):
    gate = stack.folder / "gate"
    gate.touch()  # the workers take their next batch and hold it
    before = status(stack)["counts"]["images"]
    start = IMAGES + 1
    assert upload(stack, stack.webs[0][0], list(range(start, start + 40))).status_code == 201

    stack.redis.stop()
    time.sleep(2)
    during = upload(stack, stack.webs[1][0], list(range(start + 40, start + 50)))
    stack.redis.start()  # the same port: no process is restarted

    listener = Listener(stack, stack.webs[1][0])
    try:
        first = listener.wait_for(lambda event: event["type"] == "status")
        gate.unlink()
        total = before + 50
        assert listener.wait_for(all_done(total), seconds=120)
    finally:
        listener.socket.close()
    assert during.status_code == 201  # uploads go on while Redis is away
    assert first["counts"]["with_vectors"] < total
    assert any(event["type"] == "progress" for event in listener.events)
    assert {n for _, n in query(stack, "SELECT image_id, count(*) FROM features_featurevector "
                                       "GROUP BY image_id")} == {1}


def test_an_upload_the_store_refuses_stores_nothing(stack):
    refusing = stack.start_web({"AWS_STORAGE_BUCKET_NAME": "a-bucket-that-is-not-there"})
    before = (query(stack, "SELECT count(*) FROM gallery_image")[0][0], bucket_keys(stack.env))

    response = upload(stack, refusing, [9999])

    assert response.status_code == 503
    assert response.json()["code"] == "storage_unavailable"
    assert "nothing was stored" in response.json()["detail"]
    after = (query(stack, "SELECT count(*) FROM gallery_image")[0][0], bucket_keys(stack.env))
    assert after == before
