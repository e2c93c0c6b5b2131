"""Groups from pairs and the keeper rule: the pure part."""

from datetime import datetime, timedelta
from types import SimpleNamespace

from duplicates.grouping import group_key, groups_from_pairs, keeper_order


def test_images_joined_by_a_chain_of_pairs_are_one_group():
    groups = groups_from_pairs([(1, 2, 0.95), (2, 3, 0.91), (7, 8, 0.99), (3, 4, 0.93)])

    assert [(group.image_ids, group.similarity) for group in groups] == [
        ((7, 8), 0.99), ((1, 2, 3, 4), 0.95)]


def test_a_groups_key_names_its_lowest_image_and_changes_with_its_members():
    assert group_key([5, 3, 9]).startswith("3-")
    assert group_key([5, 3, 9]) == group_key([3, 5, 9])
    assert group_key([3, 5, 9]) != group_key([3, 5])


def test_the_keeper_has_most_pixels_then_the_largest_file_then_is_oldest():
    now = datetime(2026, 1, 1)

    def image(pk, width, height, size, age):
        return SimpleNamespace(pk=pk, width=width, height=height, size_bytes=size,
                               uploaded_at=now - timedelta(days=age))

    images = [image(1, 100, 100, 900, 0), image(2, 200, 100, 10, 0), image(3, 100, 100, 900, 5),
              image(4, 100, 100, 950, 0)]
    assert [i.pk for i in sorted(images, key=keeper_order)] == [2, 4, 3, 1]
