"""A photo pasted on a larger canvas (plain or striped) is found by the hash of the picture
inside the canvas, whichever of the two the library has first; another photo on the same
canvas is not; and a library hashed before that hash existed gets it in the background."""

import importlib

import pytest

from duplicates.hash_finding import hashes_pass
from duplicates.models import HashPair, ImageHash
from features.jobs.stages import stages_forget
from gallery.services import image_create
from tests.helpers import add_vector, on_canvas, photo_bytes, run_stage, unit

pytestmark = [pytest.mark.django_db, pytest.mark.both_databases]

URL = "/api/v1/duplicates/"
STRIPED = ((255, 255, 255), (200, 40, 40))
PLAIN = ((20, 20, 20),)


@pytest.fixture(autouse=True)
def hashes_on(settings):
    settings.DUPLICATE_HASH_DISTANCE = 4


def library_photo(data: bytes, seed: int, name: str):
    image = image_create(name=name, data=data).image
    add_vector(image, unit(seed))  # far apart: only the hash can pair them
    return image


def pairs() -> set[tuple[int, int]]:
    return set(HashPair.objects.values_list("first_id", "second_id"))


@pytest.mark.parametrize("colours", [STRIPED, PLAIN], ids=["striped", "plain"])
@pytest.mark.parametrize("canvas_first", [False, True], ids=["photo first", "canvas first"])
def test_a_photo_on_a_larger_canvas_is_listed_as_a_copy_found_by_its_hash(api_client, colours,
                                                                        canvas_first):
    data = photo_bytes(31)
    made = [("photo.jpg", data), ("on a canvas.jpg", on_canvas(data, colours=colours))]
    if canvas_first:
        made.reverse()
    images = {name: library_photo(picture, seed, name)
              for seed, (name, picture) in enumerate(made, start=1)}
    library_photo(photo_bytes(32), 3, "another.jpg")
    run_stage("duplicate-hashes")

    body = api_client.get(URL).json()
    assert body["count"] == 1
    [group] = body["results"]
    [pair] = group["pairs"]
    assert sorted(pair["images"]) == sorted(image.pk for image in images.values())
    assert pair["found_by"] == ["hash"] and group["found_by"] == ["hash"]
    assert 0 <= pair["hash_distance"] <= 4
    assert pair["score"] == pytest.approx(1 - pair["hash_distance"] / 64)


def test_another_photo_on_the_same_canvas_is_not_a_copy(api_client):
    data = photo_bytes(33)
    photo = library_photo(data, 1, "photo.jpg")
    copy = library_photo(on_canvas(data), 2, "on a canvas.jpg")
    library_photo(on_canvas(photo_bytes(34)), 3, "another on the same canvas.jpg")
    run_stage("duplicate-hashes")

    assert pairs() == {(photo.pk, copy.pk)}
    [group] = api_client.get(URL).json()["results"]
    assert sorted(image["id"] for image in group["images"]) == [photo.pk, copy.pk]


def test_a_library_hashed_before_the_canvas_hash_is_hashed_again_and_its_canvas_copies_paired():
    data = photo_bytes(35)
    photo = library_photo(data, 1, "photo.jpg")
    copy = library_photo(on_canvas(data), 2, "on a canvas.jpg")
    run_stage("duplicate-hashes")
    # As the library was before the canvas hash: every image hashed and looked up, with
    # no hash of the picture inside its canvas, so the copy was not found.
    ImageHash.objects.update(trimmed=None)
    HashPair.objects.all().delete()

    upgrade = importlib.import_module("duplicates.migrations.0005_trimmed_hash")
    upgrade.hashes_again(django_apps(), None)
    assert not ImageHash.objects.exists()
    stages_forget()  # as the restart after an upgrade does
    # The worker's background pass makes the hashes again, then pairs them.
    while hashes_pass(limit=1):
        pass

    assert ImageHash.objects.filter(trimmed__isnull=False, image=copy).exists()
    assert pairs() == {(photo.pk, copy.pk)}


def django_apps():
    from django.apps import apps

    return apps
