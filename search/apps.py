from django.apps import AppConfig


class SearchConfig(AppConfig):
    name = "search"
    verbose_name = "Search"

    def ready(self):
        # The feature worker keeps the augmented vectors in step (a stage), and its stages
        # ask for neighbours among the plain vectors through search's index.
        from features.jobs.stages import Stage, plain_neighbours_provide, stage_register
        from search.augmentation import augmentation_pass, augmentation_state
        from search.index import plain_neighbours
        from search.index.refresh import snapshot_refresh

        plain_neighbours_provide(plain_neighbours)
        stage_register(Stage("augmentation", run=augmentation_pass, state=augmentation_state))
        # The machine's approximate-index snapshot, rewritten when enough changed (no state:
        # a quiet change log still makes one due after a while); writing one can take
        # minutes, so never between two batches.
        stage_register(Stage("index snapshot", idle_only=True,
                             run=lambda work: snapshot_refresh(extractor=work.extractor)))
