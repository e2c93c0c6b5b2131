"""The stages after extraction: what later apps derive from the stored vectors, kept in
step by the feature worker, off the request path.

A later app (search's augmentation, duplicates, labels) registers a ``Stage`` in its
AppConfig.ready; features knows none of them. The worker calls ``stages_run`` after each
batch it saves and whenever it has no extraction left (each stage then runs until it has
nothing left). While images wait for extraction the stages take turns after batches, each
for at most BUSY_BUDGET_SECONDS, and all of them together for about FEATURE_STAGES_SHARE of
the worker's time since extraction started (``BusyShare``): their work per photo grows
with the library (a million rows to compare with), the model's does not, so without a
share a large library would slow feature generation itself. What they leave is done as
soon as extraction is idle. A stage is a *pass*,
one bounded piece of work that finds what to do in the database and returns how much it
did (0: nothing left), so a stage never needs its own loop, budget or retry:

- a pass that fails on an ``IntegrityError`` (an image deleted while it wrote) is run again;
- a stage with a ``state`` (a cheap read that changes whenever new work may appear) is
  skipped while that read equals what it was after a pass that found nothing;
- once every stage has caught up on an idle step, an extractor switch waiting for them
  is finished here and its status published (searches move to the new vectors).

A stage that needs neighbours among the plain vectors (not the blended ones searches
compare) asks ``StagePass.plain_neighbours``: search provides the queries
(``plain_neighbours_provide``; exact, or from the approximate index where it serves) and
holds its lock while the stage asks.

A stage whose work is "the vectors not done yet" keeps a ``Frontier``: where its last pass
that found nothing left stood in the vector change log (search provides the log,
``vector_log_provide``). Its next passes look only among the vectors the log names past
that point, not at every vector: a full look takes a second or more at a million images,
and came after every batch.

What a stage's first pass after a start would read of the whole library (a first full
look, every row's augmentation limits, every hash) is read ahead as the worker starts, on
a thread of its own (``stages_warm``, each stage's ``warm``), not after its first batch.
"""

import logging
import threading
import time
from collections.abc import Callable, Hashable, Iterable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any, Protocol

from django.conf import settings
from django.db import IntegrityError, connection
from django.db.models import Max

from features.jobs import progress
from features.jobs.switching import extractor_switch_finish
from features.models import FeatureVector

logger = logging.getLogger(__name__)

# While extraction runs, the most one stage's turn after a batch lasts (a pass is never cut
# short); how many turns there are is the stages' share of the time (BusyShare).
BUSY_BUDGET_SECONDS = 1.0
# A pass that keeps failing on a library changing under it gives up after this many tries.
ATTEMPTS = 3

# (extractor, keys=, count=) -> a context manager holding the plain vectors' lock and
# yielding neighbour queries over them (search.index.neighbours.PlainNeighbours: the k
# nearest of a row, every row at or above a floor), in step with the database (``keys``
# and ``count()``: what the stage expects to be there; counted only where it is checked).
PlainNeighboursProvider = Callable[..., AbstractContextManager]


class VectorLog(Protocol):
    """The vector change log, as stages follow it (search provides it)."""

    def written(self, extractor: str, after: int | None) -> tuple[Any, int]:
        """(the ids of the extractor's vectors written or deleted after change ``after``,
        a query to filter by, or None where the log cannot say; the latest change)."""

    def reader(self):
        """A new reader of the log: its ``caught_up(position)`` keeps the log from being
        pruned past ``position``."""


@dataclass(frozen=True)
class StagePass:
    """What a stage's pass is given: the extractor the worker serves, and neighbour queries
    over its plain vectors."""

    extractor: str

    def plain_neighbours(self, *, keys: Iterable[int] = (),
                         count: Callable[[], int] | None = None):
        if _plain_neighbours is None:
            raise RuntimeError("No app provides the plain vectors (search does, in its ready())")
        return _plain_neighbours(self.extractor, keys=keys, count=count)


@dataclass(frozen=True)
class Stage:
    name: str
    # One bounded pass: how much it did, 0 when nothing is left.
    run: Callable[[StagePass], int]
    # A cheap read of the database (for an extractor) that changes whenever new work may
    # have appeared; None: the stage always passes.
    state: Callable[[str], Hashable] | None = None
    # Once the stage has nothing left on an idle step (forming groups ahead of a listing).
    when_idle: Callable[[str], None] | None = None
    # Work too long to put between two batches (minutes): only on idle steps.
    idle_only: bool = False
    # Forget what the stage's passes remember of the library (stages_forget).
    forget: Callable[[], None] | None = None
    # Read ahead, for an extractor, what the stage's first pass after a start would read of
    # the whole library (stages_warm), on a thread of its own: it does none of the stage's
    # work, and writes no more than the stage's place in the log.
    warm: Callable[[str], None] | None = None


@dataclass(frozen=True)
class Written:
    """The vectors a stage's pass need look at: ``ids`` (a query of vector ids, or None:
    every vector), as the log stood at change ``latest``."""

    frontier: "Frontier"
    key: Hashable
    ids: Any
    latest: int

    def caught_up(self) -> None:
        """The pass found nothing left among them: later passes look past ``latest``."""
        self.frontier.reach(self.key, self.latest)


class Frontier:
    """How far one stage has caught up with the vector change log, for its current key
    (its extractor, and whatever else decides its work, such as the classifier).

    Vectors are only ever added and deleted (features/jobs/saving.py), each with a new id,
    and the log names every one. So once a pass (or a stage's read-ahead after a start,
    ``stages_warm``) has found nothing left, as the log stood at change N, later work can
    only be among the vectors the log names past N. Where the log cannot say (no pass has
    caught up since the process started, the key changed, the log was pruned past N, or
    the database is PostgreSQL, whose log ids can commit out of order) a pass looks at
    every vector. The frontier reads the log as one of its readers, so it is not pruned
    past N.
    """

    def __init__(self):
        self.key: Hashable = None
        self.position: int | None = None
        self._reader = None
        _frontiers.append(self)

    def written(self, extractor: str, key: Hashable = None) -> Written:
        key = extractor if key is None else key
        after = self.position if key == self.key else None
        ids, latest = _log().written(extractor, after)
        return Written(self, key, ids, latest)

    def reach(self, key: Hashable, position: int) -> None:
        self.key, self.position = key, position
        if self._reader is None:
            self._reader = _log().reader()
        self._reader.caught_up(position)

    def forget(self) -> None:
        self.key, self.position, self._reader = None, None, None


def vector_log_latest(extractor: str) -> int:
    """The newest change in the vector log: a cheap stage ``state``."""
    return _log().written(extractor, None)[1]


def vector_newest(extractor: str) -> int:
    """The newest vector id of ``extractor``. Read after a log position (``Written.latest``)
    on SQLite (ids in commit order, the log written in the vector's transaction), every
    vector past it is named by the log past that position: a stage's read-ahead (``warm``)
    looks for waiting vectors up to it, not among those the worker stores meanwhile,
    which would keep it from catching up."""
    return FeatureVector.objects.filter(extractor=extractor).aggregate(
        newest=Max("id"))["newest"] or 0


class BusyShare:
    """How much of the worker's time the stages have had since extraction got busy.

    The clock starts at the first step after a batch (the read-ahead after a start may
    still run then: its time counts) and stops at the next idle step: time without work
    earns the stages no turns. A busy step gives turns while the stages' time is within
    FEATURE_STAGES_SHARE of the time on the clock, the stage that has had the least time
    first: a stage with little to do does not wait behind a slow one, and slow ones take
    turns. Each turn lasts at most BUSY_BUDGET_SECONDS (a pass is never cut short).
    """

    def __init__(self):
        self.stop()

    def stop(self) -> None:
        self.started: float | None = None
        self.spent: dict[str, float] = {}

    def start(self) -> None:
        if self.started is None:
            self.started = time.monotonic()

    def turns(self, stages: list[Stage]):
        """The stages whose turn it is after a batch. The caller does each stage's work
        before it asks for the next: the time between the two is that turn's."""
        share = settings.FEATURE_STAGES_SHARE
        for stage in sorted(stages, key=lambda stage: self.spent.get(stage.name, 0.0)):
            elapsed = time.monotonic() - self.started
            if share <= 0 or sum(self.spent.values()) > share * elapsed:
                return
            turn_started = time.monotonic()
            yield stage
            self.spent[stage.name] = (self.spent.get(stage.name, 0.0)
                                      + time.monotonic() - turn_started)


def _log() -> "VectorLog":
    if _vector_log is None:
        raise RuntimeError("No app provides the vector change log (search does, in its ready())")
    return _vector_log


_stages: dict[str, Stage] = {}
_plain_neighbours: PlainNeighboursProvider | None = None
_vector_log: VectorLog | None = None
_frontiers: list[Frontier] = []
# The read-ahead after a worker's start (stages_warm), while it runs.
_warming: threading.Thread | None = None
# (stage, extractor) -> its state after a pass that found nothing.
_settled: dict[tuple[str, str], Hashable] = {}
_busy = BusyShare()


def stage_register(stage: Stage) -> None:
    """Add a stage (from an AppConfig.ready). Idle steps run stages in the order
    registered; steps after a batch, the one that has had the least time first."""
    _stages[stage.name] = stage


def plain_neighbours_provide(provider: PlainNeighboursProvider) -> None:
    global _plain_neighbours
    _plain_neighbours = provider


def vector_log_provide(provider: VectorLog) -> None:
    global _vector_log
    _vector_log = provider


def stages_forget() -> None:
    """Forget what passes found (tests: ids are reused once a test's rows roll back)."""
    _warmed()
    _settled.clear()
    _busy.stop()
    for frontier in _frontiers:
        frontier.forget()
    for stage in _stages.values():
        if stage.forget is not None:
            stage.forget()


def stages_warm(*, extractor: str) -> None:
    """Start reading ahead what each stage's first pass after a start reads of the whole
    library (every row's augmentation limits, every image's hashes, where each stage
    stands in the vector log): seconds at a million images, read while the worker loads
    its model and extracts its first batches rather than after the first. Steps after a
    batch leave the stages alone while it runs; any other pass waits for it to end."""
    global _warming
    _warmed()

    def warm():
        try:
            for stage in list(_stages.values()):
                if stage.warm is None:
                    continue
                try:
                    stage.warm(extractor)
                except Exception:
                    logger.exception("Reading ahead for the %s stage failed; its passes read "
                                     "what they need", stage.name)
        finally:
            connection.close()

    _warming = threading.Thread(target=warm, daemon=True, name="stages-warm")
    _warming.start()


def _warmed() -> None:
    """Wait for the read-ahead, if one runs: a pass never races it for what it reads."""
    global _warming
    if _warming is not None:
        _warming.join()
        _warming = None


def stage_refresh(name: str, *, extractor: str, budget_seconds: float | None = None) -> int:
    """Pass one stage until it has nothing left (or the budget is spent); return how much
    it did. One cheap read when its state has not changed since it last caught up."""
    _warmed()
    stage = _stages[name]
    key = (name, extractor)
    if stage.state is not None and key in _settled and _settled[key] == stage.state(extractor):
        return 0
    work = StagePass(extractor=extractor)
    started, total = time.monotonic(), 0
    while True:
        done = _pass_with_retry(stage, work)
        total += done
        if done == 0:
            if stage.state is not None:
                # Read after the pass: the stage's own writes are behind this state.
                _settled[key] = stage.state(extractor)
            return total
        if budget_seconds is not None and time.monotonic() - started > budget_seconds:
            return total


def stages_run(*, extractor: str, idle: bool) -> None:
    """Every stage's turn after a batch (``idle`` False) or when extraction is idle.

    A failing stage is logged and the others go on; an extractor switch waits until an
    idle step on which every stage caught up. After a batch, the stages get turns within
    their share of the worker's time (``BusyShare``); while the read-ahead after the
    worker's start still runs, none: extraction goes on meanwhile.
    """
    if idle:
        _busy.stop()
        turns = list(_stages.values())
    else:
        _busy.start()
        if _warming is not None and _warming.is_alive():
            return
        turns = _busy.turns([stage for stage in _stages.values() if not stage.idle_only])
    ready = True
    for stage in turns:
        try:
            stage_refresh(stage.name, extractor=extractor,
                          budget_seconds=None if idle else BUSY_BUDGET_SECONDS)
            if idle and stage.when_idle is not None:
                stage.when_idle(extractor)
        except Exception:
            ready = False
            logger.exception("The %s stage failed; the worker goes on", stage.name)
    if idle and ready and extractor_switch_finish(fingerprint=extractor):
        progress.publish_status()
        # Stages that follow the serving extractor (labels) catch up with it now.
        stages_run(extractor=extractor, idle=True)


def _pass_with_retry(stage: Stage, work: StagePass) -> int:
    for attempt in range(1, ATTEMPTS + 1):
        try:
            return stage.run(work)
        except IntegrityError:
            # A row went away (its image was deleted) while the pass wrote: pass again.
            if attempt == ATTEMPTS:
                raise
            logger.info("The library changed during a %s pass; passing again", stage.name)
    return 0
