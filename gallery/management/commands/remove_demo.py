"""manage.py remove_demo: delete the demo originals (FEATURE_ORIGINALS_DIR's images) from the
library, rows, files and vectors together, and keep bin/serve from adding them again."""

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from gallery.demo import demo_remove
from gallery.storage import StorageUnavailable


class Command(BaseCommand):
    help = ("Delete the demo originals (the images of FEATURE_ORIGINALS_DIR) from the library, "
            "with their files and vectors; bin/serve does not add them again.")

    def handle(self, *args, **options):
        folder = settings.FEATURE_ORIGINALS_DIR
        if not folder.is_dir():
            raise CommandError(f"No originals folder at {folder}: it says which images are the "
                               "demo (set FEATURE_ORIGINALS_DIR).")
        try:
            removed = demo_remove(folder=folder)
        except StorageUnavailable as exc:
            raise CommandError(f"{exc.message} Run the same command again to finish.") from None
        self.stdout.write(f"Removed {removed} demo {'original' if removed == 1 else 'originals'}; "
                          "bin/serve will not add them again.")
