"""The README's management commands, as written, in a plain shell of a fresh clone.

A shell that exported nothing (no SECRET_KEY, no FEATURE_WEIGHTS, no settings module)
beside a project folder where bin/serve made var/secret_key: every command works, and
finds the model files beside the project as bin/serve does.
"""

import pytest

from tests.helpers import (
    ROOT,
    distinct_colour,
    key_made_by_serve,
    make_image_bytes,
    plain_shell,
    project_clone,
)

SHARED = ROOT.parent / "shared"
WEIGHTS = "resnet50_weights_tf_dim_ordering_tf_kernels_notop.h5"
MANAGE = ".venv/bin/python manage.py"
PASSWORD = "a-Long-pass-phrase-9"


@pytest.fixture(scope="module")
def project(tmp_path_factory):
    project = project_clone(tmp_path_factory.mktemp("fresh-clone"))
    # What bin/serve leaves behind: its key and a migrated database.
    key_made_by_serve(project)
    result = plain_shell(project, f"{MANAGE} migrate --noinput")
    assert result.returncode == 0, result.stderr
    return project


def python_says(project, code: str) -> str:
    """The last line ``code`` prints in ``manage.py shell``."""
    result = plain_shell(project, f'{MANAGE} shell -c "{code}"')
    assert result.returncode == 0, result.stderr
    return result.stdout.splitlines()[-1]


def test_create_user_and_create_api_key_work_in_a_plain_shell(project):
    made = plain_shell(project, f'echo "{PASSWORD}" | {MANAGE} create_user ada --role editor')
    robot = plain_shell(project, f"{MANAGE} create_user robot --role viewer --no-password")
    key = plain_shell(project, f'{MANAGE} create_api_key robot --name "nightly search"')

    assert (made.returncode, made.stdout, made.stderr) == (
        0, "Made editor 'ada', with a password.\n", "")
    assert (robot.returncode, robot.stderr) == (0, "")
    assert key.returncode == 0, key.stderr
    assert len(key.stdout.splitlines()[-1]) >= 30


def test_import_folder_works_in_a_plain_shell_and_names_the_owner(project, tmp_path):
    plain_shell(project, f'echo "{PASSWORD}" | {MANAGE} create_user eve --role editor')
    photos = tmp_path / "Photos"
    photos.mkdir()
    for n in range(3):
        (photos / f"{n}.jpg").write_bytes(make_image_bytes(color=distinct_colour(n + 1)))

    result = plain_shell(project, f"{MANAGE} import_folder {photos} --owner eve")

    assert (result.returncode, result.stdout) == (
        0, f"{photos}: 3 imported, 0 already there, 0 bad.\n"), result.stderr
    assert python_says(project, "from gallery.models import Image; print(sorted("
                                "Image.objects.values_list('name', 'uploaded_by__username')))") == (
        "[('0.jpg', 'eve'), ('1.jpg', 'eve'), ('2.jpg', 'eve')]")


@pytest.mark.skipif(not (SHARED / "models" / WEIGHTS).is_file(),
                    reason="no model files beside the project")
def test_commands_find_the_model_files_beside_the_project_as_bin_serve_does(project):
    found = python_says(project, "from django.conf import settings; print(["
                                 "settings.FEATURE_WEIGHTS, settings.LABEL_HEAD_WEIGHTS, "
                                 "settings.LABEL_CLASS_INDEX])")

    assert found == str([str((SHARED / "models" / name).resolve()) for name in (
        WEIGHTS, "resnet50_imagenet_head.npz", "imagenet_class_index.json")])


def test_without_a_key_a_command_says_in_one_line_what_to_do(project):
    (project / "var" / "secret_key").rename(project / "var" / "kept")
    try:
        result = plain_shell(project, f"{MANAGE} create_user bob --role viewer --no-password")
    finally:
        (project / "var" / "kept").rename(project / "var" / "secret_key")

    assert result.returncode == 1
    assert result.stderr == (
        "ImageSim is not configured: SECRET_KEY must be set to a long random value when DEBUG "
        f"is off: run bin/serve once (it makes one in {project / 'var' / 'secret_key'}), or set "
        "SECRET_KEY.\n")
