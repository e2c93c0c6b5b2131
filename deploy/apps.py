from django.apps import AppConfig


class DeployConfig(AppConfig):
    """Operations of a growing deployment: moving a library to PostgreSQL and S3."""

    name = "deploy"
