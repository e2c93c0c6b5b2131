"""Import a folder of photos into the library through the upload checks (gallery/imports.py).

Exit status: 0 when the whole folder was gone through, even if some files were bad
(each is reported on stderr with its reason, and a rerun would not change them); 1 when
the import could not go on (the store or the database refused a write: rerun to resume),
when the folder holds no image file, or when every image file in it was bad; 130 when
interrupted.
"""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from gallery.imports import (
    IMAGE_SUFFIXES,
    ImportCounts,
    folder_files,
    folder_import,
    is_image_name,
)
from gallery.management.importing import bar_wanted, import_progress


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
        counts = ImportCounts()

        def summary() -> None:
            if verbosity > 0:
                line = (f"{folder}: {counts.imported} imported, {counts.present} already there, "
                        f"{counts.bad} bad")
                if counts.ignored:
                    line += f"; {counts.ignored} other files ignored"
                self.stdout.write(line + ".")

        # Counting first costs one listing (no file is read) and gives the bar its end.
        total = (sum(1 for path in folder_files(folder, recursive=recursive) if is_image_name(path))
                 if bar_wanted(verbosity) else None)
        with import_progress(self, total=total, verbosity=verbosity, root=folder,
                             summary=summary) as progress:
            def on_unreadable(unreadable) -> None:
                progress.problem(f"Folder {progress.name(unreadable.path)} cannot be read "
                                 f"({unreadable.reason}): skipped.")

            folder_import(folder, recursive=recursive, as_originals=originals,
                          on_result=progress.result, on_unreadable=on_unreadable, counts=counts)
        summary()
        if counts.images == 0:
            kinds = ", ".join(sorted(IMAGE_SUFFIXES))
            raise CommandError(f"No image files ({kinds}) in {folder}"
                               + ("." if recursive else " (--recursive includes subfolders)."))
        if counts.bad == counts.images:
            raise CommandError(f"None of the {counts.bad} image files could be imported.")
