"""Helpers the tests share: images made in memory, the media folder's files, library
images with vectors, a fake extractor that records what it was asked, and a fresh clone
of the project with a plain shell to run its commands in."""

import io
import os
import subprocess
import sys
import threading
import time
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pytest
from PIL import Image as PILImage
from PIL import ImageDraw

from features.extractors.fake import FakeExtractor
from features.extractors.loader import get_extractor
from features.models import FeatureVector
from gallery.models import Image
from gallery.services import image_create


def make_image_bytes(fmt="JPEG", size=(64, 48), color=(200, 30, 30), **save_args) -> bytes:
    """An image file built in memory; different colours give different content."""
    picture = PILImage.new("RGB", size, color)
    # A gradient stripe so images of one colour but different sizes still differ.
    for x in range(size[0]):
        picture.putpixel((x, 0), (x % 256, 0, 0))
    out = io.BytesIO()
    picture.save(out, fmt, **save_args)
    return out.getvalue()


def photo_bytes(seed: int, size=(480, 360)) -> bytes:
    """A JPEG with the structure of a photo (shapes of many greys and colours): a
    perceptual hash tells two of these apart, unlike one-colour images."""
    rng = np.random.default_rng(seed)
    picture = PILImage.new("RGB", size, tuple(int(c) for c in rng.integers(0, 256, 3)))
    draw = ImageDraw.Draw(picture)
    for _ in range(12):
        x, y = int(rng.integers(0, size[0])), int(rng.integers(0, size[1]))
        w = int(rng.integers(size[0] // 8, size[0] // 2))
        h = int(rng.integers(size[1] // 8, size[1] // 2))
        shape = draw.ellipse if rng.random() < 0.5 else draw.rectangle
        shape((x, y, x + w, y + h), fill=tuple(int(c) for c in rng.integers(0, 256, 3)))
    out = io.BytesIO()
    picture.save(out, "JPEG", quality=92)
    return out.getvalue()


def small_copy(data: bytes, *, fraction: float = 1 / 3, quality: int = 30,
               transpose=None) -> bytes:
    """A copy a messenger would send: ``fraction`` of the size at strong JPEG compression
    (optionally turned or mirrored first)."""
    with PILImage.open(io.BytesIO(data)) as opened:
        picture = opened.convert("RGB")
    if transpose is not None:
        picture = picture.transpose(transpose)
    picture = picture.resize((round(picture.width * fraction), round(picture.height * fraction)))
    out = io.BytesIO()
    picture.save(out, "JPEG", quality=quality)
    return out.getvalue()


def on_canvas(data: bytes, *, colours=((255, 255, 255), (200, 40, 40)), scale: float = 1.5,
              at=(0.2, 0.3)) -> bytes:
    """The photo at its size on a canvas ``scale`` times wider and higher, at ``at`` (a share
    of the room left on each axis): diagonal stripes of the two colours (one: plain)."""
    with PILImage.open(io.BytesIO(data)) as opened:
        picture = opened.convert("RGB")
    width, height = round(picture.width * scale), round(picture.height * scale)
    canvas = PILImage.new("RGB", (width, height), colours[0])
    draw = ImageDraw.Draw(canvas)
    for x in range(-height, width, 24):
        draw.polygon([(x, 0), (x + 12, 0), (x + 12 + height, height), (x + height, height)],
                     fill=colours[-1])
    canvas.paste(picture, (round((width - picture.width) * at[0]),
                           round((height - picture.height) * at[1])))
    out = io.BytesIO()
    canvas.save(out, "JPEG", quality=90)
    return out.getvalue()


def distinct_colour(n: int) -> tuple[int, int, int]:
    """The n-th of many colours that differ from each other (distinct content)."""
    return n * 37 % 256, n * 91 % 256, n * 13 % 256


def stored_files(folder: str = "") -> list[str]:
    """Every file in the media storage (a local folder or an S3 prefix), relative, sorted."""
    from django.core.files.storage import default_storage

    try:
        folders, files = default_storage.listdir(folder)
    except FileNotFoundError:  # a local media folder nothing was stored in yet
        return []
    found = [f"{folder}/{name}" if folder else name for name in files]
    for sub in folders:
        found += stored_files(f"{folder}/{sub}" if folder else sub)
    return sorted(found)


def session_cookie(user) -> bytes:
    """A Cookie header value that signs ``user`` in, for requests made without a test client
    (websockets)."""
    from django.conf import settings
    from django.test import Client

    client = Client()
    client.force_login(user)
    return f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}".encode()


def replace_stored(name: str, data: bytes) -> None:
    """Overwrite a stored file behind the library's back (a local folder or S3)."""
    from django.core.files.base import ContentFile
    from django.core.files.storage import default_storage

    default_storage.delete(name)
    assert default_storage.save(name, ContentFile(data)) == name


def remove_stored(name: str) -> None:
    from django.core.files.storage import default_storage

    default_storage.delete(name)


def storage_refuses(monkeypatch, method: str, error: Exception, *, when=lambda name: True):
    """Make the media storage's ``method`` (save, open, delete) raise ``error`` for the names
    ``when`` picks, whatever the backend. Patched on the class: the storage object itself is
    made anew when a test changes STORAGES."""
    from django.core.files.storage import storages

    backend = type(storages["default"])
    real = getattr(backend, method)

    def refusing(self, name, *args, **kwargs):
        if when(name):
            raise error
        return real(self, name, *args, **kwargs)

    monkeypatch.setattr(backend, method, refusing)


def fingerprint() -> str:
    return get_extractor().fingerprint


def library_image(color, *, original=False, name=None, vector=None, with_vector=True):
    """A library image of one colour with (by default) its fake-extractor vector stored."""
    data = make_image_bytes("PNG", color=color)
    name = name or "image-{}-{}-{}.png".format(*color)
    image = image_create(name=name, data=data, is_original=original).image
    if with_vector:
        vector = get_extractor().extract([data])[0] if vector is None else np.asarray(vector)
        add_vector(image, vector)
    return image


def add_vector(image, vector, *, extractor=None):
    vector = np.asarray(vector, dtype=np.float32)
    return FeatureVector.objects.create(image=image, extractor=extractor or fingerprint(),
                                        dim=vector.size, vector=vector)


def unit(seed: int, dim: int = 192) -> np.ndarray:
    vector = np.random.default_rng(seed).standard_normal(dim).astype(np.float32)
    return vector / np.linalg.norm(vector)


# The labels tests' tiny classifier (tests/labels/conftest.py) for the fake extractor's
# 192-d vectors: class n answers to the direction ``unit(500 + n)``, so a test picks an
# image's labels by its vector. Real WordNet ids (synonyms apply) and one class outside
# WordNet.
LABEL_CLASSES = [("n04133789", "sandal"), ("n04120489", "running_shoe"),
                 ("n03595614", "jersey"), ("n02123045", "tabby"), ("x00000001", "Flux_Capacitor"),
                 ("n03047690", "clog"), ("n03124170", "cowboy_hat"), ("n04259630", "sombrero"),
                 ("n03594734", "jean")]
LABEL_CLASS = {name: number for number, (_, name) in enumerate(LABEL_CLASSES)}


def class_vector(number: int, *, mix: int | None = None, weight: float = 0.6) -> np.ndarray:
    """A vector the tiny classifier gives class ``number`` most (then class ``mix``, if
    given: the nearer ``weight`` is to 1, the more probable)."""
    vector = unit(500 + number) + (weight * unit(500 + mix) if mix is not None else 0)
    return (vector / np.linalg.norm(vector)).astype(np.float32)


class RecordingExtractor(FakeExtractor):
    """The fake extractor, noting the size of every batch it was asked for (through the worker)."""

    def __init__(self, *, delay: float = 0.0, preset: str | None = None):
        super().__init__(preset=preset)
        self.delay = delay
        self.batches: list[int] = []
        self.lock = threading.Lock()

    def infer(self, batch):
        with self.lock:
            self.batches.append(len(batch))
        if self.delay:
            time.sleep(self.delay)
        return super().infer(batch)


def run_stage(name: str, *, extractor: str | None = None,
              budget_seconds: float | None = None) -> int:
    """Run one of the feature worker's later stages ("augmentation", "duplicates",
    "labels") as the worker does, for the configured extractor unless told another."""
    from features.jobs.stages import stage_refresh

    return stage_refresh(name, extractor=extractor or fingerprint(),
                         budget_seconds=budget_seconds)


ROOT = Path(__file__).resolve().parents[1]


def project_clone(base: Path) -> Path:
    """The project's files as a fresh clone has them (tracked and not ignored), in
    ``base/imagesim``, with the virtual environment and the shared folder beside the
    project (model files) linked in."""
    project = base / "imagesim"
    listed = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
                            cwd=ROOT, capture_output=True, check=True).stdout.decode()
    for name in filter(None, listed.split("\0")):
        source = ROOT / name
        if name == ".venv" or not source.is_file():
            continue
        target = project / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(source.read_bytes())
    (project / ".venv").symlink_to(sys.prefix)
    if (ROOT.parent / "shared").is_dir():
        (base / "shared").symlink_to(ROOT.parent / "shared")
    return project


def plain_env(project: Path) -> dict:
    """A shell's environment that exported nothing: no settings variable at all."""
    return {"PATH": os.defpath, "HOME": str(project.parent)}


def plain_shell(project: Path, command: str) -> subprocess.CompletedProcess:
    """Run ``command`` in bash in the project folder with nothing exported but PATH."""
    return subprocess.run(["bash", "-c", command], cwd=project, capture_output=True, text=True,
                          env=plain_env(project), timeout=180)


def key_made_by_serve(project: Path) -> None:
    """What bin/serve leaves in a new project folder: a key of its own in var/secret_key,
    readable by this user alone."""
    (project / "var").mkdir(exist_ok=True)
    (project / "var" / "secret_key").write_text("made-by-bin-serve-" + "k" * 50 + "\n")
    (project / "var" / "secret_key").chmod(0o600)


def api_schema(client) -> dict:
    """ImageSim's OpenAPI schema as a client reads it."""
    response = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert response.status_code == 200
    return response.json()


def schema_errors(spec: dict, component: str, body) -> list[str]:
    """What in ``body`` breaks the schema's component (OpenAPI 3.0 rules, ``nullable``
    included); empty when it matches."""
    from openapi_schema_validator import OAS30Validator

    validator = OAS30Validator({"$ref": f"#/components/schemas/{component}",
                                "components": spec["components"]})
    return [error.message for error in validator.iter_errors(body)]


def images_with_vectors(matrix, *, originals: int = 0, extractor=None) -> list[int]:
    """Many library images at once, one per row of ``matrix`` (the first ``originals`` of
    them originals), with their vectors stored; no files (for index tests). Their ids."""
    start = Image.objects.count()
    images = Image.objects.bulk_create([
        Image(filename=f"bulk-{start + n}.png", file=f"bulk-{start + n}.png",
              thumbnail=f"thumb-{start + n}.jpg", name=f"bulk {start + n}",
              is_original=n < originals, sha256=f"{start + n:064d}", width=1, height=1,
              format="PNG", size_bytes=1)
        for n in range(len(matrix))], batch_size=2000)
    if images and images[0].pk is None:
        images = list(Image.objects.order_by("-id")[:len(matrix)])[::-1]
    FeatureVector.objects.bulk_create([
        FeatureVector(image=image, extractor=extractor or fingerprint(), dim=len(row),
                      vector=np.asarray(row, dtype=np.float32))
        for image, row in zip(images, matrix)], batch_size=2000)
    return [image.pk for image in images]


def clustered_unit_vectors(n: int, dim: int = 128, *, seed: int = 0) -> np.ndarray:
    """Non-negative unit vectors in clusters of uneven sizes (about 24 on average), as photo
    features are: photos of one event or subject close together, never uniform noise."""
    rng = np.random.default_rng(seed)
    sizes = rng.geometric(1 / 24, n)
    owners = np.repeat(np.arange(n), sizes)[:n]
    centres = rng.gamma(0.6, 1.0, (owners[-1] + 1, dim)).astype(np.float32)
    spread = rng.uniform(0.15, 0.4, (n, 1)).astype(np.float32)
    rows = centres[owners] + rng.gamma(0.6, 1.0, (n, dim)).astype(np.float32) * spread
    rows = rows[rng.permutation(n)]
    return rows / np.linalg.norm(rows, axis=1, keepdims=True)


# What storing vectors at half precision (SQLite; features/fields.py) leaves of a cosine
# or a component: tests comparing against vectors they made allow this much.
STORED_TOLERANCE = 5e-4


@contextmanager
def approximate_index_serving(settings, folder: Path):
    """The approximate index serving, its snapshots in ``folder``, nothing of another
    test's index or snapshots seen, and none left behind (a writer thread waited for).
    It serves SQLite only: elsewhere the test is skipped."""
    from django.db import connection

    from search.index import reset_index
    from search.index.refresh import snapshot_forget
    from search.index.writer import snapshot_writer_join

    if connection.vendor != "sqlite":
        pytest.skip("the approximate index serves SQLite; PostgreSQL has pgvector's")
    settings.SEARCH_INDEX = "approximate"
    settings.SEARCH_INDEX_DIR = folder
    snapshot_forget()
    reset_index()
    try:
        yield folder
    finally:
        snapshot_writer_join(timeout=30)
        reset_index()
        snapshot_forget()


def sqlite_plan(sql: str, params=()) -> list[str]:
    """The steps SQLite's planner takes for ``sql`` (EXPLAIN QUERY PLAN), one line each."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN QUERY PLAN " + sql, params)
        return [row[-1] for row in cursor.fetchall()]
