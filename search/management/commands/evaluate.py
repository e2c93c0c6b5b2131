"""manage.py evaluate FOLDER --labels CSV: the retrieval quality of the current extractor."""

from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from core.errors import ImageSimError
from features.extractors.loader import get_extractor
from search.evaluation import evaluate_folder


class Command(BaseCommand):
    help = ("Every labelled image a query against all the others (relevant = same label); "
            "prints mAP, P@1, P@6 and P@10. Works in memory: the library is not touched.")

    def add_arguments(self, parser):
        parser.add_argument("folder", type=Path, help="Folder of images.")
        parser.add_argument("--labels", type=Path, required=True,
                            help="CSV of filename,label (a header row is allowed).")
        parser.add_argument("--batch-size", type=int, default=settings.FEATURE_BATCH_SIZE)
        parser.add_argument("--no-progress", action="store_true", help="No progress bar.")

    def handle(self, *args, folder: Path, labels: Path, batch_size: int, no_progress: bool,
               **options):
        if not folder.is_dir():
            raise CommandError(f"{folder} is not a folder.")
        if not labels.is_file():
            raise CommandError(f"{labels} is not a file.")
        if batch_size < 1:
            raise CommandError("--batch-size must be at least 1.")
        bar = None

        def start(total):
            nonlocal bar
            bar = tqdm(total=total, unit="image", desc="Extracting", file=self.stderr._out,
                       disable=no_progress)

        try:
            result = evaluate_folder(get_extractor(), folder, labels, batch_size=batch_size,
                                     on_start=start, progress=lambda done: bar.update(done))
        except ImageSimError as exc:
            raise CommandError(exc.message) from None
        finally:
            if bar is not None:
                bar.close()
        ranking = result.ranking
        if result.skipped:
            self.stderr.write(f"Skipped {len(result.skipped)} unreadable image(s): "
                              + ", ".join(result.skipped))
        self.stdout.write(f"Extractor: {result.extractor}")
        self.stdout.write(f"Images:    {result.images} ({ranking.queries} queries)")
        self.stdout.write(f"mAP:       {ranking.mean_average_precision:.4f}")
        for cutoff, value in ranking.precision_at.items():
            self.stdout.write(f"{f'P@{cutoff}:':<11}{value:.4f}")
