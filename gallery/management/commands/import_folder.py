"""Import a folder of photos into the library through the upload checks (gallery/imports.py).

Exit status: 0 when the whole folder was gone through, even if some files were bad
(each is reported on stderr with its reason, and a rerun would not change them); 1 when
the import could not go on (the store refused a file: rerun to resume), when the folder
holds no image file, or when every image file in it was bad; 130 when interrupted.
"""

import sys
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from gallery.imports import (
    FileResult,
    ImportCounts,
    Outcome,
    files_import,
    folder_files,
    is_image_name,
)
from gallery.services import ORIGINAL_SUFFIXES
from gallery.storage import StorageUnavailable

RESUME_HINT = "Run the same command again to go on where it stopped."


class Command(BaseCommand):
    help = ("Import the images of DIR into the library, through the same checks as uploads; "
            "content already there is skipped, bad files are reported and the import goes on.")

    def add_arguments(self, parser):
        parser.add_argument("folder", type=Path)
        parser.add_argument("--recursive", action="store_true",
                            help="Also import the images of DIR's subfolders.")
        parser.add_argument("--originals", action="store_true",
                            help="Import them as originals (protected from deletion); they keep "
                                 "their file names where free.")

    def handle(self, *args, folder, recursive, originals, verbosity, **options):
        if not folder.is_dir():
            raise CommandError(f"No folder {folder}.")
        show_bar = verbosity > 0 and sys.stderr.isatty()
        # Counting first costs one listing (no file is read) and gives the bar its end.
        total = sum(1 for path in folder_files(folder, recursive=recursive)
                    if is_image_name(path)) if show_bar else None
        counts = ImportCounts()
        with tqdm(total=total, unit="image", desc="Importing", disable=not show_bar,
                  file=sys.stderr) as bar:
            def problem(message: str) -> None:
                if show_bar:
                    bar.write(message, file=sys.stderr)
                else:
                    self.stderr.write(message)

            def on_result(result: FileResult) -> None:
                if result.outcome is Outcome.IGNORED:
                    return
                bar.update(1)
                if result.outcome is Outcome.BAD:
                    problem(f"Bad file {_shown(result.path, folder)}: {result.reason}")

            def on_unreadable(unreadable) -> None:
                problem(f"Folder {_shown(unreadable.path, folder)} cannot be read "
                        f"({unreadable.reason}): skipped.")

            try:
                files_import(folder_files(folder, recursive=recursive, on_unreadable=on_unreadable),
                             is_original=originals, keep_names=originals, on_result=on_result,
                             counts=counts)
            except StorageUnavailable as exc:
                bar.close()
                self._summary(counts, folder, verbosity)
                raise CommandError(f"{exc.message} The import stopped. {RESUME_HINT}") from None
            except KeyboardInterrupt:
                bar.close()
                self._summary(counts, folder, verbosity)
                raise CommandError(f"Interrupted. {RESUME_HINT}", returncode=130) from None
        self._summary(counts, folder, verbosity)
        if counts.images == 0:
            kinds = ", ".join(sorted(ORIGINAL_SUFFIXES))
            raise CommandError(f"No image files ({kinds}) in {folder}"
                               + ("." if recursive else " (--recursive includes subfolders)."))
        if counts.bad == counts.images:
            raise CommandError(f"None of the {counts.bad} image files could be imported.")

    def _summary(self, counts: ImportCounts, folder: Path, verbosity: int) -> None:
        if verbosity == 0:
            return
        line = (f"{folder}: {counts.imported} imported, {counts.present} already there, "
                f"{counts.bad} bad")
        if counts.ignored:
            line += f"; {counts.ignored} other files ignored"
        self.stdout.write(line + ".")


def _shown(path: Path, folder: Path) -> str:
    try:
        return str(path.relative_to(folder))
    except ValueError:
        return str(path)
