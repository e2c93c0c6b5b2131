from django.apps import AppConfig


class LabelsConfig(AppConfig):
    name = "labels"
    verbose_name = "Labels"

    def ready(self):
        # Keeps the labels in step with the vectors (a feature worker stage), and adds the
        # labels field and the label filter to the library's API.
        from features.jobs.stages import Stage, stage_register
        from labels import api
        from labels.services import labels_pass, labels_state

        stage_register(Stage("labels", run=labels_pass, state=labels_state))
        api.register()
