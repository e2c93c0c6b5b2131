from django.apps import AppConfig


class WebConfig(AppConfig):
    """The web page: one page over the gallery, features and search APIs."""

    name = "web"
