"""Two requests storing the same content at the same moment keep one row and no orphan file."""

import pytest

from gallery import services
from gallery.models import Image
from tests.helpers import make_image_bytes, stored_files

pytestmark = pytest.mark.django_db(transaction=True)


def test_the_loser_of_a_duplicate_race_gets_the_winner_and_leaves_no_file(media_root, monkeypatch):
    data = make_image_bytes(size=(120, 90))
    winner = services.image_create(name="first.jpg", data=data).image
    # The second request checked for duplicates before the first one committed.
    real_filter = Image.objects.filter
    checks = iter([True])
    monkeypatch.setattr(Image.objects, "filter", lambda **kw: (
        real_filter(pk=-1) if "sha256" in kw and next(checks, False) else real_filter(**kw)))

    result = services.image_create(name="second.jpg", data=data)

    assert (result.image, result.duplicate) == (winner, True)
    assert Image.objects.count() == 1
    stem = winner.filename.rsplit(".", 1)[0]
    assert stored_files() == [f"images/{winner.filename}", f"thumbnails/{stem}.jpg"]
