from django.apps import AppConfig


class SearchConfig(AppConfig):
    name = "search"
    verbose_name = "Search"

    def ready(self):
        from core.limits import blas_to_quota

        blas_to_quota()  # every process that searches or compares vectors loads this app
        # The feature worker keeps the augmented vectors in step (a stage), and its stages
        # ask for neighbours among the plain vectors through search's index, and follow
        # the vector change log.
        from features.jobs.stages import (Stage, plain_neighbours_provide, stage_register,
                                          vector_log_provide)
        from search.augmentation import augmentation_pass, augmentation_state, augmentation_warm
        from search.changelog import StageLog
        from search.index import plain_neighbours
        from search.index.writer import snapshot_stage

        plain_neighbours_provide(plain_neighbours)
        vector_log_provide(StageLog())
        stage_register(Stage("augmentation", run=augmentation_pass, state=augmentation_state,
                             warm=augmentation_warm))
        # The machine's approximate-index snapshots (searched and plain vectors), rewritten
        # when enough changed (no state: a quiet change log still makes one due after a
        # while). Writing one takes 15 s to minutes at a million: on a thread of its own,
        # while the worker goes on extracting. Started between batches too, so a long
        # import does not leave every search to scan all it added exactly.
        stage_register(Stage("index snapshot", run=snapshot_stage))
