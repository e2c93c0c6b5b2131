"""The worker's later stages: one runner passes each registered stage, retries a pass the
library changed under, skips a stage whose state has not moved, and finishes an extractor
switch only once every stage caught up."""

import pytest
from django.db import IntegrityError

from features.jobs import stages
from features.jobs.stages import Stage, stage_refresh, stages_run
from features.models import ServingExtractor
from tests.helpers import library_image

pytestmark = [pytest.mark.django_db, pytest.mark.both_databases]

OLD, NEW = "fake-colour-8x8-v1", "fake-colour-4x4-v1"


class Recorded:
    """A stage with ``work`` units to do, one per pass, failing as told."""

    def __init__(self, work=0, *, failures=(), state=None, name="recorded"):
        self.work, self.failures, self.passes = work, list(failures), 0
        self.stage = Stage(name, run=self.run, state=state)

    def run(self, work_pass):
        self.passes += 1
        if self.failures:
            raise self.failures.pop(0)
        if self.work == 0:
            return 0
        self.work -= 1
        return 1


@pytest.fixture
def registered(monkeypatch):
    """Only the stages a test registers run (the apps' own are put back afterwards)."""
    monkeypatch.setattr(stages, "_stages", {})

    def register(recorded):
        stages.stage_register(recorded.stage)
        return recorded

    return register


def test_a_stage_passes_until_it_has_nothing_left(registered):
    recorded = registered(Recorded(3))
    assert stage_refresh("recorded", extractor=OLD) == 3
    assert recorded.passes == 4  # the last one found nothing


def test_a_busy_step_passes_a_stage_only_for_its_budget(registered):
    recorded = registered(Recorded(3))
    assert stage_refresh("recorded", extractor=OLD, budget_seconds=0) == 1
    assert recorded.work == 2


def test_a_pass_the_library_changed_under_is_run_again(registered):
    recorded = registered(Recorded(1, failures=[IntegrityError("gone")]))
    assert stage_refresh("recorded", extractor=OLD) == 1
    assert recorded.passes == 3  # the failed one, the one again, the one that found nothing


def test_a_pass_that_keeps_failing_gives_up_after_three_tries(registered):
    registered(Recorded(1, failures=[IntegrityError("gone")] * 3))
    with pytest.raises(IntegrityError):
        stage_refresh("recorded", extractor=OLD)


def test_a_stage_whose_state_has_not_moved_since_it_caught_up_is_skipped(registered):
    state = {"changes": 1}
    recorded = registered(Recorded(2, state=lambda extractor: state["changes"]))
    assert stage_refresh("recorded", extractor=OLD) == 2
    passes = recorded.passes
    assert stage_refresh("recorded", extractor=OLD) == 0
    assert recorded.passes == passes  # not even one pass

    state["changes"], recorded.work = 2, 1
    assert stage_refresh("recorded", extractor=OLD) == 1


def test_a_failing_stage_leaves_the_others_running(registered, caplog):
    registered(Recorded(failures=[RuntimeError("broken")], name="failing"))
    other = registered(Recorded(2, name="other"))

    stages_run(extractor=OLD, idle=True)
    assert other.work == 0
    assert "The failing stage failed" in caplog.text


def test_a_switch_waits_for_an_idle_step_on_which_every_stage_caught_up(
        registered, settings, monkeypatch):
    library_image((200, 30, 30))  # a vector of the configured extractor (OLD)
    ServingExtractor.objects.create(pk=1, fingerprint="fake-other-v0")
    published = []
    monkeypatch.setattr("features.jobs.progress.publish_status", lambda: published.append(1))
    recorded = registered(Recorded(failures=[RuntimeError("not yet")] * 2))

    stages_run(extractor=OLD, idle=False)  # a busy step never switches (the stage failed too)
    assert ServingExtractor.objects.get().fingerprint == "fake-other-v0"
    stages_run(extractor=OLD, idle=True)  # the stage failed again: not ready
    assert ServingExtractor.objects.get().fingerprint == "fake-other-v0"
    assert published == []

    stages_run(extractor=OLD, idle=True)
    assert ServingExtractor.objects.get().fingerprint == OLD
    assert published == [1]
    assert recorded.passes == 4  # and once more after the switch, for the new serving one


def test_an_idle_only_stage_waits_for_an_idle_step(registered):
    recorded = registered(Recorded(1))
    stages._stages["recorded"] = Stage("recorded", run=recorded.run, idle_only=True)

    stages_run(extractor=OLD, idle=False)
    assert recorded.passes == 0
    stages_run(extractor=OLD, idle=True)
    assert recorded.work == 0
