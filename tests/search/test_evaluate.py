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


RERANKINGS = ["none", "augmentation (k=4)", "query expansion (k=3)",
              "augmentation (k=4) + query expansion (k=3)"]


def evaluate(*args):
    out, err = io.StringIO(), io.StringIO()
    call_command("evaluate", *map(str, args), stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


# No django_db mark: any database access would fail the test, which proves the
# evaluation leaves the library (rows and files) exactly as it was.
def test_it_prints_the_retrieval_figures_and_touches_nothing(labelled, media_root, settings):
    folder, labels = labelled
    settings.SEARCH_AUGMENT = settings.SEARCH_QUERY_EXPANSION = True  # as shipped

    out, err = evaluate(folder, "--labels", labels)

    # Every query finds its two shades first, whatever the preset and the re-ranking:
    # AP 1; P@6 = 2/6; P@10 = 2/10.
    rows = [f"{preset:<17}{reranking:<46}  1.0000  1.0000  0.3333  0.2000"
            for preset in ("fake-colour-8x8", "fake-colour-4x4") for reranking in RERANKINGS]
    rows[3] += "  <- in use"
    per_label = [f"{label:<32}" + "    1.0000" * 4 for label in ("blue", "green", "red")]
    assert out.splitlines() == [
        "Images:    9 (9 queries, 3 labels)",
        "Preset:    fake-colour-8x8 = fake-colour-8x8-v1",
        "Preset:    fake-colour-4x4 = fake-colour-4x4-v1",
        "",
        f"{'preset':<17}{'re-ranking':<46}     mAP     P@1     P@6    P@10",
        *rows,
        "",
        f"{'mAP by label, fake-colour-8x8':<32}     plain       dba        qe    dba+qe",
        *per_label,
        "",
        f"{'mAP by label, fake-colour-4x4':<32}     plain       dba        qe    dba+qe",
        *per_label,
    ]
    assert "Extracting (fake-colour-8x8)" in err and "9/9" in err
    assert "Extracting (fake-colour-4x4)" in err
    assert stored_files() == []


def test_it_compares_the_presets_asked_for_with_the_re_ranking_settings(labelled, settings):
    folder, labels = labelled
    settings.SEARCH_AUGMENT_NEIGHBOURS, settings.SEARCH_EXPANSION_NEIGHBOURS = 2, 5
    settings.SEARCH_AUGMENT, settings.SEARCH_QUERY_EXPANSION = True, False

    out, _ = evaluate(folder, "--labels", labels, "--presets", "fake-colour-4x4", "--no-progress")
    settings.FEATURE_PRESET = "fake-colour-4x4"
    in_use, _ = evaluate(folder, "--labels", labels, "--presets", "fake-colour-4x4",
                         "--no-progress")

    lines = out.splitlines()
    assert "Preset:    fake-colour-4x4 = fake-colour-4x4-v1" in lines
    assert not any("fake-colour-8x8" in line for line in lines)
    table = [line for line in lines if line.startswith("fake-colour-4x4 ")]
    assert [line[17:63].strip() for line in table] == [
        "none", "augmentation (k=2)", "query expansion (k=5)",
        "augmentation (k=2) + query expansion (k=5)"]
    # Not the preset in use: nothing marked. Then augmentation alone is what these settings use.
    assert "<- in use" not in out
    assert [line.endswith("<- in use") for line in in_use.splitlines()
            if line.startswith("fake-colour-4x4 ")] == [False, True, False, False]


def test_it_refuses_a_preset_the_extractor_does_not_have(labelled):
    folder, labels = labelled

    with pytest.raises(CommandError) as error:
        evaluate(folder, "--labels", labels, "--presets", "fake-colour-8x8,resnet50-gem")

    assert str(error.value) == ("--presets: resnet50-gem is not a preset of "
                                "features.extractors.fake.FakeExtractor (it has fake-colour-8x8, "
                                "fake-colour-4x4).")


def test_it_skips_an_unreadable_image_and_says_so(labelled):
    folder, labels = labelled
    (folder / "blue_2.png").write_bytes(b"not a picture")

    out, err = evaluate(folder, "--labels", labels, "--no-progress")

    assert "Images:    8 (8 queries, 3 labels)" in out
    assert "Skipped 1 unreadable image(s) (fake-colour-8x8): blue_2.png" in err
    assert "Skipped 1 unreadable image(s) (fake-colour-4x4): blue_2.png" in err


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
