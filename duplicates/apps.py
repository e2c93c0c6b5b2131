from django.apps import AppConfig


class DuplicatesConfig(AppConfig):
    name = "duplicates"
    verbose_name = "Duplicates"

    def ready(self):
        from duplicates import receivers  # noqa: F401  (finds pairs as vectors arrive)
