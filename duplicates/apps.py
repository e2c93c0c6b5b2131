from django.apps import AppConfig
from django.conf import settings


class DuplicatesConfig(AppConfig):
    name = "duplicates"
    verbose_name = "Duplicates"

    def ready(self):
        # The feature worker compares new vectors for duplicates (a stage).
        from duplicates.finding import duplicates_pass
        from duplicates.selectors import duplicate_grouping
        from features.jobs.stages import Stage, stage_register

        def form_default_groups(extractor: str) -> None:
            # Off the request path: in the embedded worker (the web process itself) the
            # next listing finds the default threshold's groups formed.
            duplicate_grouping(threshold=settings.DUPLICATE_THRESHOLD)

        stage_register(Stage("duplicates", run=duplicates_pass, when_idle=form_default_groups))
