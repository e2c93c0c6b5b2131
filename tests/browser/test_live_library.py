"""The open page shows images that came from elsewhere at once: a folder imported by
manage.py import_folder in another process (a plain shell of a fresh clone among them),
and an upload from another tab."""

import subprocess
import sys
import time

import pytest
from playwright.sync_api import expect

from tests.browser.helpers import image_files, tile, upload_via_api
from tests.browser.server import ARTIFACTS, PASSWORD, ROOT, serve, server_env
from tests.helpers import key_made_by_serve, plain_env, plain_shell, project_clone


def test_images_imported_by_another_process_appear_without_a_reload(
        empty_server, open_page, static_root, tmp_path):
    page = open_page(empty_server)
    expect(page.locator("[data-gallery-empty]")).to_be_visible()
    page.evaluate("window.notReloaded = true")
    photos = tmp_path / "Photos"
    photos.mkdir()
    image_files(photos, ["beach.jpg", "dog.png", "cat.png"])

    started = time.monotonic()
    subprocess.run([sys.executable, "manage.py", "import_folder", str(photos), "--owner", "eddie"],
                   cwd=ROOT, env=server_env(empty_server.folder, static_root), check=True,
                   capture_output=True, timeout=120)
    imported = time.monotonic()

    expect(page.locator("[data-gallery-count]")).to_have_text("3 images", timeout=10_000)
    for name in ("beach.jpg", "dog.png", "cat.png"):
        expect(tile(page, name)).to_be_visible()
    shown = time.monotonic()
    # The embedded worker was woken, not left to its 30-second poll.
    expect(page.locator("[data-features-status]")).to_have_text(
        "All 3 images have features. Search is ready.", timeout=10_000)
    print(f"import {imported - started:.1f} s, on the page {shown - imported:.1f} s after, "
          f"features {time.monotonic() - imported:.1f} s after")
    assert page.evaluate("window.notReloaded") is True


def test_an_upload_from_another_tab_appears_in_this_one(empty_server, open_page):
    watching = open_page(empty_server)
    expect(watching.locator("[data-gallery-empty]")).to_be_visible()
    other = open_page(empty_server, user="eddie")

    upload_via_api(other, 2, "elsewhere")

    expect(watching.locator("[data-gallery-count]")).to_have_text("2 images", timeout=10_000)
    expect(tile(watching, "elsewhere-0000.png")).to_be_visible()


@pytest.fixture
def fresh_clone_server(static_root, tmp_path_factory):
    """A fresh clone where bin/serve made its key, with an admin made in a plain shell, and
    its server as bin/serve runs it in that folder (its key, database and media), with the
    fake extractor so that no model runs here. Stopped after the page's own teardown."""
    project = project_clone(tmp_path_factory.mktemp("fresh-clone"))
    key_made_by_serve(project)
    for command in (".venv/bin/python manage.py migrate --noinput",
                    f'echo "{PASSWORD}" | .venv/bin/python manage.py create_user ada --role admin'):
        result = plain_shell(project, command)
        assert result.returncode == 0, result.stderr
    server = serve(project, cwd=project, log_dir=ARTIFACTS, env={
        **plain_env(project), "FEATURE_EXTRACTOR": "features.extractors.fake.FakeExtractor",
        "STATIC_ROOT": str(static_root), "LOG_LEVEL": "WARNING"})
    yield project, server
    server.stop()


def test_a_fresh_clones_commands_in_a_plain_shell_reach_the_open_page(fresh_clone_server,
                                                                      open_page):
    project, server = fresh_clone_server
    page = open_page(server, user="ada")
    expect(page.locator("[data-gallery-empty]")).to_be_visible()
    photos = project.parent / "Photos"
    photos.mkdir()
    image_files(photos, ["red.jpg", "green.png"])

    result = plain_shell(project, f".venv/bin/python manage.py import_folder {photos} --owner ada")

    assert (result.returncode, result.stdout) == (
        0, f"{photos}: 2 imported, 0 already there, 0 bad.\n"), result.stderr
    expect(page.locator("[data-gallery-count]")).to_have_text("2 images", timeout=10_000)
    expect(tile(page, "red.jpg")).to_be_visible()
    expect(tile(page, "green.png")).to_be_visible()
