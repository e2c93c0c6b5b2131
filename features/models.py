from django.db import models

from features.fields import VectorField
from gallery.models import Image


class FeatureVector(models.Model):
    """One image's vector from one extractor (identified by its fingerprint)."""

    image = models.ForeignKey(Image, on_delete=models.CASCADE, related_name="feature_vectors")
    extractor = models.CharField(max_length=100, db_index=True)
    dim = models.PositiveIntegerField()
    vector = VectorField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["image", "extractor"], name="one_vector_per_extractor")
        ]

    def __str__(self):
        return f"{self.image} [{self.extractor}]"
