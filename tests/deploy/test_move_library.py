"""manage.py move_library: an SQLite library into PostgreSQL (and its files into S3),
run as a user runs it, in its own process, on this test's SQLite file."""

import os
import subprocess
import sys
import uuid
from pathlib import Path

import numpy as np
import psycopg
import pytest
from django.conf import settings
from django.core.management import CommandError
from django.db import connection

from accounts.keys import api_key_create
from devstack.stack import bucket_keys, postgres_url, s3_endpoint
from features.extractors.loader import get_extractor
from features.jobs import services as jobs
from features.models import FeatureJob, FeatureVector
from gallery.models import Image
from tests.helpers import library_image

pytestmark = pytest.mark.django_db(transaction=True)
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def server():
    with postgres_url() as url:
        yield url


@pytest.fixture
def target(server):
    """The URL of a new, empty database on the PostgreSQL server."""
    name = f"move_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(server, autocommit=True) as admin:
        admin.execute(f"CREATE DATABASE {name}")
    return server.replace("/postgres?", f"/{name}?")


@pytest.fixture
def library(make_user, add_image):
    ada = make_user("editor", username="ada")
    api_key, _ = api_key_create(user=ada, name="script")
    images = [library_image((n * 40, 10, 10)) for n in range(3)]
    add_image("no-vector-yet.jpg")
    jobs.job_start(extractor=get_extractor())  # queues the image without a vector
    return {"ada": ada, "api_key": api_key, "images": images}


def move(*args, env: dict | None = None) -> str:
    """Run the command; CommandError with what it printed when it fails."""
    environment = {**os.environ, "DATABASE_URL": f"sqlite:///{connection.settings_dict['NAME']}",
                   "MEDIA_ROOT": str(settings.MEDIA_ROOT), **(env or {})}
    done = subprocess.run([sys.executable, "manage.py", "move_library", *args], cwd=ROOT,
                          env=environment, capture_output=True, text=True, timeout=300)
    if done.returncode:
        raise CommandError(done.stderr.strip())
    return done.stdout


def rows(url: str, sql: str) -> list[tuple]:
    with psycopg.connect(url) as target:
        return target.execute(sql).fetchall()


def tables(url: str) -> set[str]:
    return {name for name, in rows(url, "SELECT tablename FROM pg_tables "
                                        "WHERE schemaname = 'public'")}


def test_it_copies_accounts_images_vectors_and_jobs(library, target):
    out = move("--to", target)

    assert "gallery.Image: 4 copied (4 in this library)" in out
    assert set(rows(target, "SELECT id, sha256, filename FROM gallery_image")) == \
        set(Image.objects.values_list("pk", "sha256", "filename"))
    copied = dict(rows(target, "SELECT id, vector::text FROM features_featurevector"))
    for vector in FeatureVector.objects.all():
        assert np.allclose(np.array(copied[vector.pk].strip("[]").split(","), dtype=np.float32),
                           vector.vector)
    assert rows(target, "SELECT state, total FROM features_featurejob") == \
        list(FeatureJob.objects.values_list("state", "total"))
    assert rows(target, "SELECT g.name FROM auth_user_groups ug JOIN auth_group g ON "
                        "g.id = ug.group_id JOIN auth_user u ON u.id = ug.user_id "
                        "WHERE u.username = 'ada'") == [("editor",)]
    assert rows(target, "SELECT hashed_key FROM accounts_apikey") == \
        [(library["api_key"].hashed_key,)]
    # The target's sequences moved past the copied ids: new rows there get new ids.
    (new_id,) = rows(target, "INSERT INTO features_featurejob (extractor, state, total, done, "
                             "failed, rate, error, created_at) VALUES ('x', 'done', 0, 0, 0, "
                             "0, '', now()) RETURNING id")[0]
    assert new_id > FeatureJob.objects.order_by("-pk").first().pk


def test_a_rerun_resumes_and_copies_only_what_is_missing(library, target):
    move("--to", target)
    gone = library["images"][0].pk
    rows(target, f"DELETE FROM gallery_image WHERE id = {gone} RETURNING id")

    out = move("--to", target)

    assert "gallery.Image: 1 copied (4 in this library)" in out
    assert "features.FeatureVector: 1 copied" in out
    assert rows(target, "SELECT count(*) FROM gallery_image") == [(4,)]


def test_a_target_holding_another_library_is_refused_untouched(library, target):
    move("--to", target)
    rows(target, "UPDATE gallery_image SET sha256 = repeat('0', 64) WHERE id = "
                 f"{library['images'][1].pk} RETURNING id")
    Image.objects.filter(pk=library["images"][2].pk).delete()

    with pytest.raises(CommandError, match="holds another library"):
        move("--to", target)
    assert rows(target, "SELECT count(*) FROM gallery_image") == [(4,)]


def test_a_target_that_is_not_postgresql_is_refused(library, tmp_path):
    with pytest.raises(CommandError, match="must be PostgreSQL"):
        move("--to", f"sqlite:///{tmp_path / 'other.sqlite3'}")


def test_an_unreachable_database_is_refused(library):
    with pytest.raises(CommandError, match="cannot be reached"):
        move("--to", "postgres://nobody@127.0.0.1:1/none")


def test_files_move_to_s3_and_a_rerun_skips_them(library, target):
    with s3_endpoint() as s3:
        bucket = {name: value for name, value in s3.items() if name.startswith("AWS_")}
        first = move("--to", target, "--media-to", "s3", env=bucket)
        second = move("--to", target, "--media-to", "s3", env=bucket)
        keys = bucket_keys(s3)

    named = sorted(name for pair in Image.objects.values_list("file", "thumbnail")
                   for name in pair)
    assert keys == named
    assert "files: 8 copied (8 in this library)" in first
    assert "files: 0 copied (8 in this library)" in second
    assert "MEDIA_STORAGE=s3" in first


def test_an_unwritable_bucket_is_refused_before_any_row_is_written(library, target):
    with s3_endpoint() as s3, pytest.raises(CommandError, match="cannot be written to"):
        move("--to", target, "--media-to", "s3",
             env={**{name: value for name, value in s3.items() if name.startswith("AWS_")},
                  "AWS_STORAGE_BUCKET_NAME": "not-there"})

    assert "gallery_image" not in tables(target)
