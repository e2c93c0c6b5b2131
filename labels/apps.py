from django.apps import AppConfig


class LabelsConfig(AppConfig):
    name = "labels"
    verbose_name = "Labels"

    def ready(self):
        # Keeps the labels in step with the vectors (feature worker), and adds the labels
        # field and the label filter to the library's API.
        from labels import api, receivers  # noqa: F401

        api.register()
