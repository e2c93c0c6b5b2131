"""The model is loaded and run once when a process starts (features/extractors/warmup.py)."""

import logging

import pytest

from core.errors import Unavailable
from features.extractors import warmup
from tests.helpers import RecordingExtractor


@pytest.fixture
def recording(monkeypatch):
    extractor = RecordingExtractor()
    monkeypatch.setattr(warmup, "get_extractor", lambda: extractor)
    return extractor


def test_a_web_process_warms_the_one_image_path(recording):
    assert warmup.warm_up(batched=False)

    assert recording.batches == [1]


def test_a_worker_warms_the_batched_path_too(recording):
    assert warmup.warm_up(batched=True)

    assert recording.batches == [1, 2]


def test_without_a_model_it_says_why_and_goes_on(monkeypatch, caplog):
    class NoModel(RecordingExtractor):
        def check_available(self):
            raise Unavailable("No weights here.")

    monkeypatch.setattr(warmup, "get_extractor", NoModel)
    with caplog.at_level(logging.WARNING, logger="features.extractors.warmup"):
        assert not warmup.warm_up(batched=True)

    assert caplog.messages == ["Model not warmed up: No weights here."]


def test_it_runs_in_the_background_when_on(recording, settings):
    settings.FEATURE_WARM_UP = True

    thread = warmup.warm_up_in_background(batched=False)
    thread.join(timeout=30)

    assert thread.daemon and recording.batches == [1]


def test_it_does_nothing_when_off(recording, settings):
    settings.FEATURE_WARM_UP = False

    assert warmup.warm_up_in_background(batched=True) is None
    assert recording.batches == []
