from django.apps import AppConfig
from django.conf import settings


class DuplicatesConfig(AppConfig):
    name = "duplicates"
    verbose_name = "Duplicates"

    def ready(self):
        # The feature worker hashes new images and compares new vectors for duplicates
        # (two stages).
        from duplicates.finding import duplicates_pass, duplicates_warm
        from duplicates.hash_finding import (hashes_forget, hashes_pass, hashes_state,
                                             hashes_trashed, hashes_warm)
        from duplicates.selectors import duplicate_grouping
        from features.jobs.stages import Stage, stage_register
        from gallery.signals import images_trashing

        images_trashing.connect(hashes_trashed, dispatch_uid="duplicates-forget-trashed")

        def form_default_groups(extractor: str) -> None:
            # Off the request path: in the embedded worker (the web process itself) the
            # next listing finds the default threshold's groups formed.
            duplicate_grouping(threshold=settings.DUPLICATE_THRESHOLD)

        # Images are hashed, and paired by their hashes, first: the default groups formed
        # once the vectors are compared then hold the hash pairs too.
        stage_register(Stage("duplicate-hashes", run=lambda work: hashes_pass(),
                             state=lambda extractor: hashes_state(), forget=hashes_forget,
                             warm=lambda extractor: hashes_warm()))
        stage_register(Stage("duplicates", run=duplicates_pass, when_idle=form_default_groups,
                             warm=duplicates_warm))
