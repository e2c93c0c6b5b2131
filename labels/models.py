from django.db import models
from django.db.models import F
from django.db.models.functions import Lower

from gallery.models import Image


class ImageLabel(models.Model):
    """One of an image's top ImageNet labels, from the ImageNet classifier layer applied to
    its vector of the serving extractor (labels/services.py keeps them in step)."""

    image = models.ForeignKey(Image, on_delete=models.CASCADE, related_name="labels")
    rank = models.PositiveSmallIntegerField(help_text="0 for the most probable label.")
    wnid = models.CharField("WordNet id", max_length=20,
                            help_text="The ImageNet class's WordNet 3.0 id, e.g. n04133789.")
    name = models.CharField(max_length=100, help_text="The class's name, e.g. sandal.")
    score = models.FloatField(help_text="The classifier's probability, 0 to 1.")
    # What made it: the vector (a features.FeatureVector id, not a foreign key: when the
    # vector is replaced or its extractor switched, the labels are found stale and made
    # again), its extractor, and the classifier (labels/loader.py).
    vector_id = models.BigIntegerField()
    extractor = models.CharField(max_length=100)
    head = models.CharField(max_length=40)
    # The image's upload time (never changed once made), so that a page of a label's images
    # in the middle of a million is sorted from the label index alone (labels/querysets.py).
    image_uploaded_at = models.DateTimeField(null=True, editable=False)

    class Meta:
        ordering = ["rank"]
        constraints = [
            models.UniqueConstraint(fields=["image", "rank"], name="one_label_per_rank"),
        ]
        # The label filter (labels/selectors.py): a class's images at its threshold, and
        # when each was uploaded, from the index alone; a class outside WordNet by its
        # name, the class and score beside it so that the labels of the classes found
        # already (a class's own name: sandal) are passed over in the index, not each read
        # from the table.
        indexes = [models.Index(fields=["wnid", "score", "image", "image_uploaded_at"],
                                name="label_class_score"),
                   models.Index(Lower("name"), F("wnid"), F("score"),
                                name="label_lowered_name"),
                   # Which vectors have their labels (labels/services.py): a probe by the
                   # vector, so the vectors' own index is read, not their rows.
                   models.Index(fields=["vector_id"], name="label_vector")]

    def __str__(self):
        return f"{self.name} ({self.score:.2f})"
