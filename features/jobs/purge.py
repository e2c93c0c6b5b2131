"""The daily purge of the trash, run by the feature worker on an idle step.

Each worker process purges at most once a day (and once as it starts): what has been
in the trash longer than TRASH_DAYS is deleted with its files (gallery.trash). Several
workers purging the same day do no harm: an image gone already is simply not found.
"""

import logging

from django.utils import timezone

from features.jobs.stages import Stage, stage_register
from gallery.trash import trash_purge_expired

logger = logging.getLogger(__name__)

_last_day = None


def trash_purge_daily() -> int:
    """Purge the expired trash unless this process did so today; return how many went."""
    global _last_day
    today = timezone.localdate()
    if _last_day == today:
        return 0
    _last_day = today
    purged = trash_purge_expired()
    if purged:
        logger.info("Purged %d image(s) kept in the trash past their time", purged)
    return purged


def purge_stage_register() -> None:
    # Freeing many files can take a while: never between two batches. The pass after a
    # purge finds it done for the day (0), which ends the stage's turn.
    stage_register(Stage(name="trash purge", idle_only=True,
                         run=lambda work: trash_purge_daily()))
