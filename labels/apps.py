from django.apps import AppConfig


class LabelsConfig(AppConfig):
    name = "labels"
    verbose_name = "Labels"

    def ready(self):
        # Keeps the labels in step with the vectors (a feature worker stage), and adds the
        # labels field and the label filter to the library's API.
        from features.jobs.stages import Stage, stage_register
        from gallery.signals import images_trashing
        from labels import api
        from labels.services import labels_forget, labels_pass, labels_state, labels_warm

        stage_register(Stage("labels", run=labels_pass, state=labels_state, warm=labels_warm))
        # An image moved to the trash loses its labels with its vectors, in that transaction.
        images_trashing.connect(labels_forget, dispatch_uid="labels-forget-trashed")
        api.register()
