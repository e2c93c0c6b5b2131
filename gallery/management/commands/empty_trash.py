"""Delete for good, with their files, the images in the trash (all, or those deleted more
than N days ago). Exit status 1 when the store refused a file's delete (those images stay
in the trash; rerun once it answers)."""

from argparse import ArgumentTypeError

from django.core.management.base import BaseCommand, CommandError

from gallery.storage import StorageUnavailable
from gallery.trash import trash_empty


def _days(value: str) -> float:
    try:
        days = float(value)
    except ValueError:
        days = -1
    if not days >= 0:
        raise ArgumentTypeError(f"must be a number of days, 0 or more, not {value!r}")
    return days


class Command(BaseCommand):
    help = ("Delete for good the images in the trash, with their files: all of them, or with "
            "--older-than-days N those deleted more than N days ago (what the daily purge does "
            "with TRASH_DAYS).")

    def add_arguments(self, parser):
        parser.add_argument("--older-than-days", type=_days, default=None, metavar="N",
                            help="Only images deleted more than N days ago (N >= 0).")

    def handle(self, *args, older_than_days, **options):
        try:
            deleted = trash_empty(older_than_days=older_than_days)
        except StorageUnavailable as exc:
            raise CommandError(exc.message) from None
        self.stdout.write(f"Deleted {deleted} image(s) from the trash for good.")
