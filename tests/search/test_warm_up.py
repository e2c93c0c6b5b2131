"""The warm-up the server runs as it starts: model and index ready before the first search."""

import pytest

from features.extractors.loader import get_extractor
from search import warm_up
from search.index import get_index
from search.index.exact import ExactIndex
from search.services import search_warm_up
from tests.helpers import fingerprint, library_image

pytestmark = pytest.mark.django_db


def test_it_loads_the_model_runs_one_image_and_loads_the_index(monkeypatch):
    library_image((200, 30, 30))
    library_image((30, 200, 30))
    extracted = []
    extractor = get_extractor()
    monkeypatch.setattr(extractor, "extract", lambda images: extracted.append(len(images))
                        or type(extractor).extract(extractor, images))

    search_warm_up()

    assert extracted == [1]
    index = get_index()
    if isinstance(index, ExactIndex):  # pgvector's index lives in the database, not here
        assert index._matrices[fingerprint()].size == 2


def test_it_does_nothing_on_an_empty_library(monkeypatch):
    monkeypatch.setattr(get_extractor(), "load", lambda: pytest.fail("loaded the model"))

    search_warm_up()


def test_the_setting_turns_it_off(settings, monkeypatch):
    settings.SEARCH_WARM_UP = False
    monkeypatch.setattr(warm_up, "_started", type(warm_up._started)())

    assert warm_up.start_search_warm_up() is False
