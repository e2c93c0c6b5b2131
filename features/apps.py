from django.apps import AppConfig


class FeaturesConfig(AppConfig):
    name = "features"
    verbose_name = "Features"

    def ready(self):
        from features import receivers  # noqa: F401  (connects the upload signal)
