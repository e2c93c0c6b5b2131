from django.apps import AppConfig


class FeaturesConfig(AppConfig):
    name = "features"
    verbose_name = "Features"

    def ready(self):
        # Registers the start-up checks; connects the upload signal.
        from features import checks, receivers  # noqa: F401
        from features.jobs.purge import purge_stage_register

        purge_stage_register()
