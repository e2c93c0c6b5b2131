"""The perceptual hash as a second signal: small recompressed copies the vectors do not
see as alike are found by their hashes (turned or mirrored too), listed with the distance
that found them, and a library that had no hashes gets them in the background."""

import io

import numpy as np
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from PIL import Image as PILImage

from duplicates.hash_finding import hashes_pass
from duplicates.hashing import hash_distance, to_unsigned
from duplicates.models import HashPair, ImageHash
from gallery.trash import image_restore, images_purge
from features.jobs.stages import stages_forget
from gallery.services import image_create, images_delete
from tests.helpers import (
    add_vector,
    photo_bytes,
    run_stage,
    small_copy,
    sqlite_plan,
    unit,
)

pytestmark = [pytest.mark.django_db, pytest.mark.both_databases]

URL = "/api/v1/duplicates/"


@pytest.fixture(autouse=True)
def hashes_on(settings):
    settings.DUPLICATE_HASH_DISTANCE = 4


def library_photo(data: bytes, vector=None, *, name="photo.jpg"):
    image = image_create(name=name, data=data).image
    if vector is not None:
        add_vector(image, vector)
    return image


def plain(size, colour) -> bytes:
    out = io.BytesIO()
    PILImage.new("RGB", size, colour).save(out, "JPEG")
    return out.getvalue()


def hash_everything() -> int:
    return run_stage("duplicate-hashes")


def test_a_small_recompressed_copy_is_found_by_its_hash_and_listed_with_its_distance(api_client):
    data = photo_bytes(1)
    photo = library_photo(data, unit(1), name="beach.jpg")
    # The vectors put the copy far below the floor: only the hash can find it.
    copy = library_photo(small_copy(data), unit(2), name="beach from a chat.jpg")
    library_photo(photo_bytes(2), unit(3), name="another.jpg")
    hash_everything()

    body = api_client.get(URL).json()
    assert body["count"] == 1
    group = body["results"][0]
    [pair] = group["pairs"]
    distance = pair["hash_distance"]
    assert 0 <= distance <= 4
    similarity = float(unit(1) @ unit(2))
    assert {key: value for key, value in pair.items() if key != "similarity"} == {
        "images": [photo.pk, copy.pk], "score": pytest.approx(1 - distance / 64),
        "match": None, "hash_distance": distance, "found_by": ["hash"]}
    assert pair["similarity"] == pytest.approx(similarity, abs=1e-5)
    assert group["found_by"] == ["hash"]
    assert group["similarity"] == pytest.approx(1 - distance / 64)
    assert sorted(image["id"] for image in group["images"]) == [photo.pk, copy.pk]


def test_a_copy_found_before_it_has_a_vector_is_listed_without_a_similarity(api_client):
    data = photo_bytes(4)
    photo = library_photo(data, unit(4))
    copy = library_photo(small_copy(data, fraction=1 / 4))
    hash_everything()

    [group] = api_client.get(URL).json()["results"]
    assert group["pairs"][0]["images"] == [photo.pk, copy.pk]
    assert group["pairs"][0]["similarity"] is None
    assert group["pairs"][0]["found_by"] == ["hash"]


@pytest.mark.parametrize("transpose", [PILImage.Transpose.ROTATE_90,
                                       PILImage.Transpose.ROTATE_270,
                                       PILImage.Transpose.FLIP_LEFT_RIGHT])
@pytest.mark.parametrize("turned_first", [False, True])
def test_a_turned_or_mirrored_copy_is_found_whichever_comes_first(transpose, turned_first):
    data = photo_bytes(5)
    pictures = [data, small_copy(data, fraction=0.5, quality=60, transpose=transpose)]
    if turned_first:
        pictures.reverse()
    first = library_photo(pictures[0])
    hash_everything()  # the first is hashed and paired alone
    second = library_photo(pictures[1], name="second.jpg")
    hash_everything()

    assert list(HashPair.objects.values_list("first_id", "second_id")) == [(first.pk, second.pk)]


def test_the_worker_hashes_a_library_that_had_none_a_batch_at_a_time():
    pictures = [photo_bytes(seed) for seed in range(10, 16)]
    images = [library_photo(data, name=f"{n}.jpg") for n, data in enumerate(pictures)]
    images.append(library_photo(small_copy(pictures[0]), name="copy.jpg"))
    # As a library from before hashes: no image has one yet.
    assert not ImageHash.objects.exists()

    # Each pass hashes up to 3 images, then pairs up to 3 hashes: 7 images take 3 passes.
    assert [hashes_pass(limit=3) for _ in range(4)] == [3 + 3, 3 + 3, 1 + 1, 0]
    assert ImageHash.objects.count() == len(images)
    assert not ImageHash.objects.filter(paired=False).exists()
    # The pairs are exactly those a comparison of every two hashes gives: any of one
    # image's hashes against the other's upright or trimmed one.
    rows = ImageHash.objects.all()
    variants = {row.image_id: [to_unsigned(value) for value in
                               (row.upright, row.turned_left, row.turned_right, row.mirrored,
                                row.trimmed) if value is not None] for row in rows}
    indexed = {row.image_id: [to_unsigned(value) for value in (row.upright, row.trimmed)
                              if value is not None] for row in rows}
    expected = {(a, b) for a in variants for b in variants if a < b
                and min(hash_distance(v, i) for x, y in ((a, b), (b, a))
                        for v in variants[x] for i in indexed[y]) <= 4}
    assert set(HashPair.objects.values_list("first_id", "second_id")) == expected
    assert expected == {(images[0].pk, images[-1].pk)}


def test_a_plain_picture_gets_no_hash_and_no_pair():
    white = library_photo(plain((120, 90), (250, 250, 250)))
    grey = library_photo(plain((90, 120), (128, 128, 128)))
    hash_everything()

    assert set(ImageHash.objects.values_list("image_id", "upright")) == {(white.pk, None),
                                                                        (grey.pk, None)}
    assert not HashPair.objects.exists()


def test_an_image_restored_from_the_trash_is_hashed_and_paired_again():
    data = photo_bytes(8)
    photo = library_photo(data)
    copy = library_photo(small_copy(data))
    hash_everything()
    images_delete(images=[photo])
    assert hash_everything() == 0 and not HashPair.objects.exists()

    image_restore(image=photo)
    hash_everything()

    assert list(HashPair.objects.values_list("first_id", "second_id")) == [(photo.pk, copy.pk)]


def test_an_image_deleted_before_it_was_hashed_is_hashed_and_paired_once_restored():
    data = photo_bytes(9)
    photo = library_photo(data)
    images_delete(images=[photo])
    copy = library_photo(small_copy(data))
    hash_everything()
    assert not HashPair.objects.exists()

    image_restore(image=photo)
    hash_everything()

    assert list(HashPair.objects.values_list("first_id", "second_id")) == [(photo.pk, copy.pk)]


@pytest.mark.skipif("connection.vendor != 'sqlite'")
def test_once_every_image_is_hashed_only_images_added_since_are_looked_at():
    # Asking every image whether it has a hash took half a second at a million images,
    # after every batch the worker saved.
    data = photo_bytes(6)
    photo = library_photo(data)
    hash_everything()
    copy = library_photo(small_copy(data), name="copy.jpg")

    with CaptureQueriesContext(connection) as queries:
        hash_everything()

    assert list(HashPair.objects.values_list("first_id", "second_id")) == [(photo.pk, copy.pk)]
    asks = [query["sql"] for query in queries.captured_queries
            if "NOT EXISTS" in query["sql"] and '"duplicates_imagehash"' in query["sql"]]
    assert len(asks) == 2  # the pass that found the copy, and the one that found none
    for sql in asks:
        plan = sqlite_plan(sql)
        assert any("gallery_image" in step and "rowid>?" in step for step in plan), plan
    waiting = [query["sql"] for query in queries.captured_queries
               if "COUNT(*)" in query["sql"] and '"duplicates_imagehash"' in query["sql"]]
    assert waiting
    for sql in waiting:  # the stage's state: the few hashes waiting, from their own index
        assert any("INDEX hash_unpaired" in step for step in sqlite_plan(sql)), sqlite_plan(sql)


def test_a_deleted_image_takes_its_pairs_with_it_and_pairs_with_nothing_in_the_trash():
    data = photo_bytes(7)
    photo = library_photo(data)
    copy = library_photo(small_copy(data))
    hash_everything()
    assert HashPair.objects.count() == 1

    images_delete(images=[photo])
    assert not HashPair.objects.exists()
    # A later copy pairs with the one that is left, not with the deleted photo's hash.
    later = library_photo(small_copy(data, fraction=1 / 4), name="later.jpg")
    hash_everything()
    assert list(HashPair.objects.values_list("first_id", "second_id")) == [(copy.pk, later.pk)]


def test_a_purged_images_hash_left_in_the_index_pairs_with_nothing():
    # The worker's index keeps a purged image's hashes (no count of every hash after each
    # batch): a later copy still pairs only with the images that are there.
    data = photo_bytes(8)
    first, second = library_photo(data, name="first.jpg"), library_photo(small_copy(data))
    hash_everything()
    images_delete(images=[first])
    images_purge(images=[first])
    later = library_photo(small_copy(data, fraction=1 / 4), name="later.jpg")
    hash_everything()
    assert list(HashPair.objects.values_list("first_id", "second_id")) == [(second.pk, later.pk)]


def test_with_the_hash_signal_off_images_are_hashed_and_paired_once_it_is_on(api_client,
                                                                           settings):
    data = photo_bytes(8)
    library_photo(data, unit(8))
    library_photo(small_copy(data), unit(9))
    settings.DUPLICATE_HASH_DISTANCE = -1
    hash_everything()
    assert ImageHash.objects.count() == 2
    assert api_client.get(URL).json()["count"] == 0

    settings.DUPLICATE_HASH_DISTANCE = 4
    stages_forget()  # as the restart that changes a setting does
    hash_everything()
    assert api_client.get(URL).json()["count"] == 1


def test_every_pair_of_a_group_says_which_signals_found_it(api_client):
    data = photo_bytes(6)
    base = unit(6)
    close = (base + 0.1 * unit(60)) / np.linalg.norm(base + 0.1 * unit(60))
    photo = library_photo(data, base)
    copy = library_photo(small_copy(data, fraction=0.5, quality=80), close)
    hash_everything()
    run_stage("duplicates")
    [group] = api_client.get(URL).json()["results"]
    [pair] = group["pairs"]
    assert pair["images"] == [photo.pk, copy.pk]
    assert pair["found_by"] == ["similarity", "hash"]
    assert pair["similarity"] == pytest.approx(float(base @ close), abs=1e-5)
    assert group["found_by"] == ["similarity", "hash"]
