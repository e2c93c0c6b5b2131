"""manage.py move_library --to postgres://... [--media-to s3]: move this library."""

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from core.env import s3_storage_from_env
from deploy import moving


class Command(BaseCommand):
    help = ("Copy this library (accounts, API keys, images, vectors, jobs) into the PostgreSQL "
            "database at --to, and with --media-to s3 its files into the bucket named by "
            "AWS_STORAGE_BUCKET_NAME (with AWS_S3_ENDPOINT_URL, AWS_ACCESS_KEY_ID, ...). The "
            "targets are checked before anything is written; run it again to resume. This "
            "library is left as it was.")

    def add_arguments(self, parser):
        parser.add_argument("--to", required=True, metavar="DATABASE_URL",
                            help="postgres://user:password@host:port/database")
        parser.add_argument("--media-to", choices=["s3"], default=None,
                            help="Also copy the files to S3 (settings from the environment).")

    def handle(self, *args, to, media_to, **options):
        try:
            storage = None
            if media_to == "s3":
                storage = moving.media_target(s3_storage_from_env())
            alias = moving.target_connect(to)
            moving.target_check(alias)
            if storage is not None:
                moving.media_target_check(storage)
            self.stdout.write("Targets checked; copying.")
            moving.rows_copy(alias, progress=self._report)
            if storage is not None:
                self._report(moving.media_copy(storage))
        except moving.MoveRefused as exc:
            raise CommandError(str(exc)) from None
        switch = f"DATABASE_URL={to}"
        if media_to == "s3":
            switch += " MEDIA_STORAGE=s3"
        self.stdout.write(f"Done. Serve the moved library with {switch} (and the same "
                          f"SECRET_KEY); {settings.DATABASES['default']['NAME']} is unchanged.")

    def _report(self, copied: moving.Copied) -> None:
        self.stdout.write(f"{copied.name}: {copied.copied} copied ({copied.total} in this "
                          "library)")
        if copied.missing:
            self.stderr.write("Missing from this library's store, not copied: "
                              + ", ".join(copied.missing))
