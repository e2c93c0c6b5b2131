"""Import a folder of images as originals, extract their vectors and write the features file.

The features file ships with the originals, so it must cover every one: a file of the
folder that cannot be imported is an error naming it (seed_originals skips it instead).
"""

from functools import partial
from pathlib import Path

import numpy as np
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from core.errors import ImageSimError
from features.extraction import extract_batches, model_load_ahead
from features.extractors.loader import get_extractor
from features.models import FeatureVector
from features.originals import (
    FeaturesFileError,
    features_file_load,
    features_file_write,
    vectors_store,
)
from gallery.imports import ImportReport, folder_import
from gallery.storage import StorageUnavailable, file_read


class Command(BaseCommand):
    help = ("Import DIR (default fixtures/originals/) as original images, extract their vectors "
            "in batches and write them to the features file; --load seeds from that file instead.")

    def add_arguments(self, parser):
        parser.add_argument("folder", nargs="?", type=Path, default=None)
        parser.add_argument("--load", action="store_true",
                            help="Load the vectors from the features file; never runs the model.")
        parser.add_argument("--output", type=Path, default=None,
                            help="The features file (default: FEATURE_ORIGINALS_FILE).")

    def handle(self, *args, folder, load, output, **options):
        folder = folder or settings.FEATURE_ORIGINALS_DIR
        output = output or settings.FEATURE_ORIGINALS_FILE
        if not folder.is_dir():
            raise CommandError(f"No folder {folder}.")
        extractor = get_extractor()
        # The model loads on the other core while the files are imported.
        loading = None if load else model_load_ahead(extractor)
        try:
            report = folder_import(folder, as_originals=True, counts=ImportReport())
        except StorageUnavailable as exc:
            raise CommandError(exc.message) from None
        if report.bad_results:
            # The features file ships with the originals: it must cover all of them.
            raise CommandError("Some originals cannot be imported; fix or remove them and run "
                               "again: " + "; ".join(f"{bad.path.name}: {bad.reason}"
                                                     for bad in report.bad_results))
        images = report.library_images
        self.stdout.write(f"Originals: {len(images)} in {folder}, {report.imported} added.")
        if load:
            try:
                added = features_file_load(path=output, extractor=extractor.fingerprint)
            except FeaturesFileError as exc:
                raise CommandError(str(exc)) from None
            self.stdout.write(f"Original vectors: {added} loaded from {output}.")
            return
        vectors = self._vectors(extractor, images, loading)
        features_file_write(path=output, extractor=extractor.fingerprint, images=images,
                            vectors=vectors)
        self.stdout.write(f"Wrote {len(images)} vectors ({extractor.fingerprint}) to {output}.")

    def _vectors(self, extractor, images, loading) -> np.ndarray:
        """Vectors for every image: those in the database are reused, the rest extracted."""
        fingerprint = extractor.fingerprint
        known = dict(FeatureVector.objects.filter(extractor=fingerprint, image__in=images)
                     .values_list("image_id", "vector"))
        missing = [image for image in images if image.pk not in known]
        if missing:
            try:
                loading.result()
            except ImageSimError as exc:
                raise CommandError(exc.message) from None
        by_id = {image.pk: image for image in missing}
        items = [(image.pk, partial(_read, image)) for image in missing]
        with tqdm(total=len(missing), unit="image", desc="Extracting", disable=not missing) as bar:
            for batch in extract_batches(extractor, items):
                if batch.failures:
                    pk, reason = next(iter(batch.failures.items()))
                    raise CommandError(f"An original cannot be read: {by_id[pk].name}: {reason}")
                vectors_store(extractor=fingerprint, vectors=batch.vectors)
                known.update(batch.vectors)
                bar.update(len(batch.keys))
        return np.stack([known[image.pk] for image in images]) if images else \
            np.zeros((0, extractor.dim), dtype=np.float32)


def _read(image) -> bytes:
    return file_read(image.file.name)
