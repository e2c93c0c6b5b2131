"""manage.py evaluate FOLDER --labels CSV: retrieval quality, with nothing written anywhere."""

import io

import pytest
from django.core.management import CommandError, call_command

from core.errors import Unavailable
from features.extractors.loader import get_extractor
from tests.helpers import make_image_bytes, stored_files

# Three colours, three shades each: the fake extractor puts each colour's shades together.
SHADES = {
    "red": [(200, 30, 30), (185, 40, 35), (215, 25, 40)],
    "green": [(30, 200, 30), (40, 185, 35), (25, 215, 40)],
    "blue": [(30, 30, 200), (40, 35, 185), (25, 40, 215)],
}


@pytest.fixture
def labelled(tmp_path):
    folder = tmp_path / "set"
    folder.mkdir()
    lines = ["filename,label"]
    for label, colours in SHADES.items():
        for n, colour in enumerate(colours):
            (folder / f"{label}_{n}.png").write_bytes(make_image_bytes("PNG", color=colour))
            lines.append(f"{label}_{n}.png,{label}")
    (tmp_path / "labels.csv").write_text("\n".join(lines) + "\n")
    return folder, tmp_path / "labels.csv"


def evaluate(*args):
    out, err = io.StringIO(), io.StringIO()
    call_command("evaluate", *map(str, args), stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


# No django_db mark: any database access would fail the test, which proves the
# evaluation leaves the library (rows and files) exactly as it was.
def test_it_prints_the_retrieval_figures_and_touches_nothing(labelled, media_root):
    folder, labels = labelled

    out, err = evaluate(folder, "--labels", labels)

    # Every query finds its two shades first: AP 1; P@6 = 2/6; P@10 = 2/10.
    assert out == (
        "Extractor: fake-colour-8x8-v1\n"
        "Images:    9 (9 queries)\n"
        "mAP:       1.0000\n"
        "P@1:       1.0000\n"
        "P@6:       0.3333\n"
        "P@10:      0.2000\n"
    )
    assert "Extracting" in err and "9/9" in err
    assert stored_files() == []


def test_it_skips_an_unreadable_image_and_says_so(labelled):
    folder, labels = labelled
    (folder / "blue_2.png").write_bytes(b"not a picture")

    out, err = evaluate(folder, "--labels", labels, "--no-progress")

    assert "Images:    8 (8 queries)" in out
    assert "Skipped 1 unreadable image(s): blue_2.png" in err


@pytest.mark.parametrize("change, message", [
    (lambda folder, labels: labels.unlink(), "labels.csv is not a file."),
    (lambda folder, labels: (folder / "red_0.png").unlink(),
     "red_0.png is listed in {labels} but not found in {folder}."),
    (lambda folder, labels: labels.write_text("filename,label\nred_0.png,red\n"),
     "{labels} lists fewer than two images: nothing to evaluate."),
])
def test_it_explains_what_is_wrong_with_its_input(labelled, change, message):
    folder, labels = labelled
    change(folder, labels)

    with pytest.raises(CommandError) as error:
        evaluate(folder, "--labels", labels)

    assert str(error.value).endswith(message.format(folder=folder, labels=labels))


def test_it_says_how_to_provide_the_model_when_it_cannot_load(labelled, monkeypatch):
    folder, labels = labelled

    def fail():
        raise Unavailable("The model weights are missing: set FEATURE_WEIGHTS.")

    monkeypatch.setattr(get_extractor(), "load", fail)
    with pytest.raises(CommandError, match="The model weights are missing: set FEATURE_WEIGHTS."):
        evaluate(folder, "--labels", labels)
