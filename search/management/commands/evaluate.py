"""manage.py evaluate FOLDER --labels CSV: retrieval quality of the extractor's presets, each
without and with re-ranking, side by side, with the mAP of every label."""

from pathlib import Path

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from core.errors import ImageSimError
from features.extractors.loader import extractor_class, get_extractor, preset_name
from search.evaluation import Evaluation, evaluate_folder, read_labels
from search.reranking import Reranking

SHORT = {(False, False): "plain", (True, False): "dba", (False, True): "qe", (True, True): "dba+qe"}


class Command(BaseCommand):
    help = ("Every labelled image a query against all the others (relevant = same label), for "
            "each preset of the extractor, without and with each re-ranking step: mAP, P@1, P@6, "
            "P@10 and the mAP of every label. Works in memory: the library is not touched.")

    def add_arguments(self, parser):
        parser.add_argument("folder", type=Path, help="Folder of images.")
        parser.add_argument("--labels", type=Path, required=True,
                            help="CSV of filename,label (a header row is allowed).")
        parser.add_argument("--presets", default="",
                            help="Comma-separated presets to compare (default: all of "
                                 "FEATURE_EXTRACTOR's, the configured one first).")
        parser.add_argument("--batch-size", type=int, default=settings.FEATURE_BATCH_SIZE)
        parser.add_argument("--no-progress", action="store_true", help="No progress bar.")

    def handle(self, *args, folder: Path, labels: Path, presets: str, batch_size: int,
               no_progress: bool, **options):
        if not folder.is_dir():
            raise CommandError(f"{folder} is not a folder.")
        if not labels.is_file():
            raise CommandError(f"{labels} is not a file.")
        if batch_size < 1:
            raise CommandError("--batch-size must be at least 1.")
        try:
            names = self._presets(presets)
            labelled = read_labels(folder, labels)
            evaluations = [self._evaluate(name, labelled, batch_size, no_progress)
                           for name in names]
        except ImageSimError as exc:
            raise CommandError(exc.message) from None
        except ImproperlyConfigured as exc:
            raise CommandError(str(exc)) from None
        self._report(evaluations, current=preset_name())

    def _presets(self, option: str) -> list[str]:
        if not option.strip():
            current = preset_name()
            return [current] + [n for n in extractor_class().presets if n != current]
        names = [name.strip() for name in option.split(",") if name.strip()]
        offered = extractor_class().presets
        for name in names:
            if name not in offered:
                raise CommandError(f"--presets: {name} is not a preset of "
                                   f"{settings.FEATURE_EXTRACTOR} (it has {', '.join(offered)}).")
        return names

    def _evaluate(self, name: str, labelled, batch_size: int, no_progress: bool) -> Evaluation:
        # Each step off and on, with the neighbour counts of the settings.
        k_augment = settings.SEARCH_AUGMENT_NEIGHBOURS
        k_expand = settings.SEARCH_EXPANSION_NEIGHBOURS
        rerankings = [Reranking(augment_neighbours=k_augment * a, expand_neighbours=k_expand * e,
                                floor=settings.SEARCH_BLEND_FLOOR)
                      for a, e in SHORT]
        bar = None

        def start(total):
            nonlocal bar
            bar = tqdm(total=total, unit="image", desc=f"Extracting ({name})",
                       file=self.stderr._out, disable=no_progress)

        try:
            return evaluate_folder(get_extractor(preset=name), labelled, rerankings=rerankings,
                                   batch_size=batch_size, on_start=start,
                                   progress=lambda done: bar.update(done))
        finally:
            if bar is not None:
                bar.close()

    def _report(self, evaluations: list[Evaluation], *, current: str) -> None:
        out = self.stdout.write
        first = evaluations[0]
        ranking = next(iter(first.rankings.values()))
        labels = list(ranking.per_label)
        for evaluation in evaluations:
            if evaluation.skipped:
                self.stderr.write(f"Skipped {len(evaluation.skipped)} unreadable image(s) "
                                  f"({evaluation.preset}): " + ", ".join(evaluation.skipped))
        out(f"Images:    {first.images} ({ranking.queries} queries, {len(labels)} labels)")
        for evaluation in evaluations:
            out(f"Preset:    {evaluation.preset} = {evaluation.extractor}")
        configured = Reranking.configured(settings)
        out("")
        width = max(len(e.preset) for e in evaluations) + 2
        out(f"{'preset':<{width}}{'re-ranking':<46}{'mAP':>8}{'P@1':>8}{'P@6':>8}{'P@10':>8}")
        for evaluation in evaluations:
            for reranking, result in evaluation.rankings.items():
                mark = "  <- in use" if (evaluation.preset, reranking) == (current, configured) \
                    else ""
                out(f"{evaluation.preset:<{width}}{reranking.name:<46}"
                    f"{result.mean_average_precision:>8.4f}"
                    + "".join(f"{result.precision_at[c]:>8.4f}" for c in (1, 6, 10)) + mark)
        for evaluation in evaluations:
            columns = {SHORT[bool(r.augment_neighbours), bool(r.expand_neighbours)]: result
                       for r, result in evaluation.rankings.items()}
            out("")
            out(f"{'mAP by label, ' + evaluation.preset:<32}"
                + "".join(f"{name:>10}" for name in columns))
            for label in labels:
                out(f"{label:<32}" + "".join(f"{result.per_label.get(label, 0.0):>10.4f}"
                                             for result in columns.values()))

