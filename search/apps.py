from django.apps import AppConfig


class SearchConfig(AppConfig):
    name = "search"
    verbose_name = "Search"

    def ready(self):
        from search import receivers  # noqa: F401  (keeps augmented vectors in step)
