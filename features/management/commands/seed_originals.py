"""Seed the shipped originals and their precomputed vectors (bin/serve runs it on every start).

Idempotent and fast: known images are recognised by content hash, the model never runs.
It never stops the server from starting: problems are reported and skipped.
"""

from django.conf import settings
from django.core.management.base import BaseCommand

from features.extractors.loader import get_extractor
from features.originals import FeaturesFileError, features_file_load
from gallery.imports import ImportReport, folder_import
from gallery.storage import StorageUnavailable


class Command(BaseCommand):
    help = "Import fixtures/originals/ as original images and load their precomputed vectors."

    def handle(self, *args, **options):
        folder, features_file = settings.FEATURE_ORIGINALS_DIR, settings.FEATURE_ORIGINALS_FILE
        if not folder.is_dir():
            self.stdout.write(f"No originals folder at {folder}: nothing to seed.")
            return
        try:
            report = folder_import(folder, as_originals=True, counts=ImportReport())
        except StorageUnavailable as exc:
            self.stderr.write(f"Originals not seeded: {exc.message}")
            return
        for bad in report.bad_results:
            self.stderr.write(f"Original skipped: {bad.path.name}: {bad.reason}")
        self.stdout.write(f"Originals: {len(report.library_images)} in {folder}, "
                          f"{report.imported} added.")
        if not features_file.is_file():
            self.stdout.write(
                f"No features file at {features_file}: originals have no precomputed vectors "
                "(run 'manage.py precompute_originals', or generate features in the app).")
            return
        extractor = get_extractor()
        problem = extractor.weights_problem()
        if problem:
            self.stderr.write(f"Original vectors not loaded: {problem}")
            return
        try:
            added = features_file_load(path=features_file, extractor=extractor.fingerprint)
        except FeaturesFileError as exc:
            self.stderr.write(f"Original vectors not loaded: {exc}")
            return
        self.stdout.write(f"Original vectors: {added} loaded from {features_file}.")
