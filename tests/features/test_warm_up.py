"""The model is loaded and run once when a process starts (features/extractors/warm_up.py)."""

import logging

import pytest

from core.errors import Unavailable
from features.extractors import warm_up
from tests.helpers import RecordingExtractor


@pytest.fixture
def recording(monkeypatch):
    extractor = RecordingExtractor()
    monkeypatch.setattr(warm_up, "get_extractor", lambda: extractor)
    return extractor


def test_a_web_process_warms_the_one_image_path(recording):
    assert warm_up.model_warm_up(batched=False)

    assert recording.batches == [1]


def test_a_worker_warms_the_batched_path_too(recording):
    assert warm_up.model_warm_up(batched=True)

    assert recording.batches == [1, 2]


def test_without_a_model_it_says_why_and_goes_on(monkeypatch, caplog):
    class NoModel(RecordingExtractor):
        def check_available(self):
            raise Unavailable("No weights here.")

    monkeypatch.setattr(warm_up, "get_extractor", NoModel)
    with caplog.at_level(logging.WARNING, logger="features.extractors.warm_up"):
        assert not warm_up.model_warm_up(batched=True)

    assert caplog.messages == ["Model not warmed up: No weights here."]


def test_it_runs_in_the_background_when_on(recording, settings):
    settings.FEATURE_WARM_UP = True

    thread = warm_up.start_model_warm_up(batched=False)
    thread.join(timeout=30)

    assert thread.daemon and recording.batches == [1]


def test_it_does_nothing_when_off(recording, settings):
    settings.FEATURE_WARM_UP = False

    assert warm_up.start_model_warm_up(batched=True) is None
    assert recording.batches == []
