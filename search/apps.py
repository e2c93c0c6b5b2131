from django.apps import AppConfig


class SearchConfig(AppConfig):
    name = "search"
    verbose_name = "Search"

    def ready(self):
        # The feature worker keeps the augmented vectors in step (a stage), and its stages
        # read the plain vectors from search's in-process index.
        from features.jobs.stages import Stage, plain_vectors_provide, stage_register
        from search.augmentation import augmentation_pass, augmentation_state
        from search.index import plain_vectors

        plain_vectors_provide(plain_vectors)
        stage_register(Stage("augmentation", run=augmentation_pass, state=augmentation_state))
