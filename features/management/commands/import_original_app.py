"""Move a library of the original app into ImageSim (features/original_app.py).

Exit status as import_folder's: 0 when images/ was gone through (bad files reported),
1 when nothing could be done (unreadable vector files: nothing is written; no image
file; every image bad) or a refused write stopped the import (rerun to resume), 130
when interrupted.
"""

from pathlib import Path

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.management.base import BaseCommand, CommandError

from features.extractors.loader import get_extractor
from features.original_app import (
    AGREEMENT,
    ORIGINALS_COUNT,
    OriginalAppCounts,
    OriginalAppError,
    library_import,
    library_read,
    vectors_agreement,
)
from gallery.management.importing import import_progress, owner_argument, owner_get


class Command(BaseCommand):
    help = ("Import a library of the original app (DIR with images/ and its .npy vector files): "
            "its first 50 images as originals, its vectors reused for the resnet50-gap preset "
            "when a sample extracted here agrees, else its images are queued for extraction.")

    def add_arguments(self, parser):
        parser.add_argument("folder", type=Path)
        parser.add_argument("--no-vectors", action="store_true",
                            help="Ignore the .npy files: import the images and queue them all.")
        owner_argument(parser)

    def handle(self, *args, folder, no_vectors, owner, verbosity, **options):
        self.verbosity = verbosity
        if not folder.is_dir():
            raise CommandError(f"No folder {folder}.")
        owner = owner_get(owner)
        configured = get_extractor()
        reuse = None if no_vectors else self._reuse_extractor()
        try:
            library = library_read(folder, dim=reuse.dim if reuse else None,
                                   with_vectors=not no_vectors)
        except OriginalAppError as exc:
            raise CommandError(str(exc)) from None
        if not library.names:
            raise CommandError(f"No image files in {library.images_dir}.")
        self._say(f"{folder}: {len(library.names)} images (the first "
                  f"{min(ORIGINALS_COUNT, len(library.names))} in sorted order are originals), "
                  f"vectors for {len(library.rows)} in {', '.join(library.vector_files) or '-'}.")
        if library.unmatched:
            shown = ", ".join(library.unmatched[:10])
            more = len(library.unmatched) - 10
            self.stderr.write(f"{len(library.unmatched)} vectors name no file of images/ and are "
                              f"ignored: {shown}" + (f" and {more} more." if more > 0 else "."))
        reuse_for = self._agreed(library, reuse) if library.rows and reuse else None

        counts = OriginalAppCounts()

        def summary() -> None:
            for name in counts.unusable:
                self.stderr.write(f"The vector of {name} is zero or not finite: not reused.")
            line = (f"{folder}: {counts.imported} imported, {counts.present} already there, "
                    f"{counts.bad} bad.")
            if reuse_for:
                line += f" {counts.reused} vectors reused for {reuse_for}."
            if reuse_for != configured.fingerprint:
                line += (f" New images are queued for features with {configured.fingerprint}, "
                         "the configured extractor.")
            self._say(line)

        with import_progress(self, total=len(library.names), verbosity=verbosity,
                             root=library.images_dir, summary=summary) as progress:
            library_import(library, reuse_for=reuse_for, on_result=progress.result, counts=counts,
                           uploaded_by=owner)
        summary()
        if counts.bad == counts.images:
            raise CommandError(f"None of the {counts.bad} image files could be imported.")

    def _reuse_extractor(self):
        try:
            return get_extractor(preset=settings.ORIGINAL_APP_PRESET)
        except (ImproperlyConfigured, ValueError):
            self.stderr.write(f"{settings.FEATURE_EXTRACTOR} has no preset "
                              f"{settings.ORIGINAL_APP_PRESET}: the original app's vectors cannot "
                              "be reused; its images are queued for extraction.")
            return None

    def _agreed(self, library, reuse) -> str | None:
        """The fingerprint to store the vectors for, if a sample agrees with them."""
        agreement = vectors_agreement(library, reuse)
        if agreement.reason:
            self.stderr.write(f"The original app's vectors cannot be checked ({agreement.reason}):"
                              " they are not reused; its images are queued for extraction.")
            return None
        cosines = f"{min(agreement.cosines):.4f} to {max(agreement.cosines):.4f}"
        if not agreement.agrees:
            self.stderr.write(
                f"The original app's vectors do not agree with {reuse.fingerprint} on "
                f"{len(agreement.cosines)} images extracted here (cosine {cosines}, at least "
                f"{AGREEMENT} needed): they are not reused; its images are queued for extraction.")
            return None
        self._say(f"Its vectors agree with {reuse.fingerprint} on {len(agreement.cosines)} "
                  f"images extracted here (cosine {cosines}): they are reused.")
        return reuse.fingerprint

    def _say(self, message: str) -> None:
        if self.verbosity > 0:
            self.stdout.write(message)
