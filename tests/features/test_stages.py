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


class Clock:
    """The stages' clock, moved by hand: batches and passes take the seconds a test says."""

    def __init__(self):
        self.now = 1000.0

    def monotonic(self):
        return self.now


@pytest.fixture
def clock(monkeypatch):
    clock = Clock()
    monkeypatch.setattr(stages, "time", clock)
    return clock


class Slow(Recorded):
    """A stage with plenty of work whose every pass takes ``seconds``."""

    def __init__(self, clock, seconds, *, name):
        super().__init__(10_000, name=name)
        self.clock, self.seconds = clock, seconds

    def run(self, work_pass):
        self.clock.now += self.seconds
        return super().run(work_pass)


def test_while_images_wait_for_extraction_the_stages_take_only_their_share(
        registered, clock, settings):
    settings.FEATURE_STAGES_SHARE = 0.25
    first = registered(Slow(clock, 0.6, name="first"))
    second = registered(Slow(clock, 0.6, name="second"))

    started = clock.now
    stages_run(extractor=OLD, idle=False)  # after the first batch of an import
    assert (first.passes, second.passes) == (2, 0)  # one turn, for its budget (a second)
    for _ in range(60):
        clock.now += 2.0  # the model's time for the next batch
        stages_run(extractor=OLD, idle=False)

    stage_seconds = (first.passes + second.passes) * 0.6
    elapsed = clock.now - started
    # Within their quarter, give or take the one turn that overruns it.
    assert 0.25 * elapsed - 1.2 <= stage_seconds <= 0.25 * elapsed + 1.2
    assert abs(first.passes - second.passes) <= 2  # turn about: neither waits for the other

    first.work = second.work = 3  # what is left
    stages_run(extractor=OLD, idle=True)  # extraction idle: every stage until it is done
    assert first.work == second.work == 0


def test_the_share_starts_again_with_each_import(registered, clock, settings):
    settings.FEATURE_STAGES_SHARE = 0.25
    slow = registered(Slow(clock, 0.6, name="slow"))
    stages_run(extractor=OLD, idle=False)
    clock.now += 0.1
    stages_run(extractor=OLD, idle=False)  # its share is spent
    assert slow.passes == 2

    slow.work = 0
    stages_run(extractor=OLD, idle=True)
    clock.now += 3600  # an hour idle earns the stages no time for the next import
    slow.work, passes = 10, slow.passes
    stages_run(extractor=OLD, idle=False)
    clock.now += 0.1
    stages_run(extractor=OLD, idle=False)
    assert slow.passes == passes + 2  # the first batch's turn only


def test_a_stage_with_little_to_do_goes_before_a_slow_one(registered, clock, settings):
    settings.FEATURE_STAGES_SHARE = 0.25
    slow = registered(Slow(clock, 0.6, name="slow"))
    quick = registered(Slow(clock, 0.001, name="quick"))
    quick.work = 0
    stages_run(extractor=OLD, idle=False)
    slow_turns = 0
    for _ in range(12):
        clock.now += 2.0
        quick.work += 1  # a little new work for it after every batch
        passes = slow.passes
        stages_run(extractor=OLD, idle=False)
        if slow.passes > passes:
            slow_turns += 1
            assert quick.work == 0  # it had its turn first
        assert quick.work <= 2  # it waits at most until the share comes back
    assert 2 <= slow_turns <= 6  # the slow one within the share (1.2 s a turn, 2 s a batch)


def test_while_the_read_ahead_runs_its_time_counts_towards_the_share(
        registered, clock, settings, monkeypatch):
    settings.FEATURE_STAGES_SHARE = 0.25
    slow = registered(Slow(clock, 0.6, name="slow"))
    reading = type("Thread", (), {"is_alive": lambda self: True, "join": lambda self: None})()
    monkeypatch.setattr(stages, "_warming", reading)
    for _ in range(4):
        stages_run(extractor=OLD, idle=False)
        clock.now += 2.0
    assert slow.passes == 0  # extraction went on alone

    monkeypatch.setattr(stages, "_warming", None)  # the read-ahead is done
    for _ in range(4):
        stages_run(extractor=OLD, idle=False)
        clock.now += 0.1
    # A quarter of the time since the first batch, their own turns of 1.2 s included:
    # three turns (3.6 s of 12 s), not one for every step missed (nor only one).
    assert slow.passes == 6


def test_with_all_the_time_the_stages_keep_up_after_every_batch(registered, clock, settings):
    settings.FEATURE_STAGES_SHARE = 1.0
    slow = registered(Slow(clock, 0.6, name="slow"))
    quick = registered(Slow(clock, 0.001, name="quick"))
    for _ in range(5):
        clock.now += 0.1
        stages_run(extractor=OLD, idle=False)
    assert slow.passes == 10
    assert quick.passes >= 5 * 1000  # each for its second


def test_with_no_share_the_stages_wait_until_extraction_is_idle(registered, clock, settings):
    settings.FEATURE_STAGES_SHARE = 0.0
    slow = registered(Slow(clock, 0.6, name="slow"))
    for _ in range(5):
        clock.now += 2.0
        stages_run(extractor=OLD, idle=False)
    assert slow.passes == 0
    slow.work = 2
    stages_run(extractor=OLD, idle=True)
    assert slow.work == 0
