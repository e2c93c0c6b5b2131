"""The README's management commands, as written, in a plain shell of a fresh clone.

A shell that exported nothing (no SECRET_KEY, no FEATURE_WEIGHTS, no settings module)
beside a project folder where bin/serve made var/secret_key: every command works, and
finds the model files beside the project as bin/serve does.
"""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers import distinct_colour, make_image_bytes

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
WEIGHTS = "resnet50_weights_tf_dim_ordering_tf_kernels_notop.h5"


def clone(base: Path) -> Path:
    """The project's files as a fresh clone has them (tracked and not ignored), with the
    virtual environment and the shared folder beside it linked in."""
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
    if SHARED.is_dir():
        (base / "shared").symlink_to(SHARED)
    return project


def sh(project: Path, command: str) -> subprocess.CompletedProcess:
    """Run ``command`` in bash in the project folder with nothing exported but PATH."""
    return subprocess.run(["bash", "-c", command], cwd=project, capture_output=True, text=True,
                          env={"PATH": os.defpath, "HOME": str(project.parent)}, timeout=180)


@pytest.fixture(scope="module")
def project(tmp_path_factory):
    project = clone(tmp_path_factory.mktemp("fresh-clone"))
    # What bin/serve leaves behind: a key of its own, readable by this user alone, and a
    # migrated database.
    (project / "var").mkdir()
    (project / "var" / "secret_key").write_text("made-by-bin-serve-" + "k" * 50 + "\n")
    (project / "var" / "secret_key").chmod(0o600)
    result = sh(project, ".venv/bin/python manage.py migrate --noinput")
    assert result.returncode == 0, result.stderr
    return project


def test_create_user_and_create_api_key_work_in_a_plain_shell(project):
    made = sh(project, 'echo "a-Long-pass-phrase-9" | .venv/bin/python manage.py create_user '
                       "ada --role editor")
    robot = sh(project, ".venv/bin/python manage.py create_user robot --role viewer --no-password")
    key = sh(project, '.venv/bin/python manage.py create_api_key robot --name "nightly search"')

    assert (made.returncode, made.stdout, made.stderr) == (
        0, "Made editor 'ada', with a password.\n", "")
    assert (robot.returncode, robot.stderr) == (0, "")
    assert key.returncode == 0, key.stderr
    assert len(key.stdout.splitlines()[-1]) >= 30


def test_import_folder_works_in_a_plain_shell_and_names_the_owner(project, tmp_path):
    sh(project, 'echo "a-Long-pass-phrase-9" | .venv/bin/python manage.py create_user '
                "eve --role editor")
    photos = tmp_path / "Photos"
    photos.mkdir()
    for n in range(3):
        (photos / f"{n}.jpg").write_bytes(make_image_bytes(color=distinct_colour(n + 1)))

    result = sh(project, f".venv/bin/python manage.py import_folder {photos} --owner eve")
    owners = sh(project, ".venv/bin/python manage.py shell -c \"from gallery.models import Image; "
                         "print(sorted(Image.objects.values_list('name', 'uploaded_by__username')))\"")

    assert (result.returncode, result.stdout) == (
        0, f"{photos}: 3 imported, 0 already there, 0 bad.\n"), result.stderr
    assert owners.stdout.splitlines()[-1] == "[('0.jpg', 'eve'), ('1.jpg', 'eve'), ('2.jpg', 'eve')]"


@pytest.mark.skipif(not (SHARED / "models" / WEIGHTS).is_file(),
                    reason="no model files beside the project")
def test_commands_find_the_model_files_beside_the_project_as_bin_serve_does(project):
    result = sh(project, ".venv/bin/python manage.py shell -c \"from django.conf import settings; "
                         "print(settings.FEATURE_WEIGHTS); print(settings.LABEL_HEAD_WEIGHTS); "
                         "print(settings.LABEL_CLASS_INDEX)\"")

    assert result.stdout.splitlines()[-3:] == [
        str((SHARED / "models" / WEIGHTS).resolve()),
        str((SHARED / "models" / "resnet50_imagenet_head.npz").resolve()),
        str((SHARED / "models" / "imagenet_class_index.json").resolve())]


def test_without_a_key_a_command_says_in_one_line_what_to_do(project):
    (project / "var" / "secret_key").rename(project / "var" / "kept")
    try:
        result = sh(project, ".venv/bin/python manage.py create_user bob --role viewer "
                             "--no-password")
    finally:
        (project / "var" / "kept").rename(project / "var" / "secret_key")

    assert result.returncode == 1
    assert result.stderr == (
        "ImageSim is not configured: SECRET_KEY must be set to a long random value when DEBUG "
        f"is off: run bin/serve once (it makes one in {project / 'var' / 'secret_key'}), or set "
        "SECRET_KEY.\n")
