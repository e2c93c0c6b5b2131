"""What the duplicate finder stores: candidate pairs above a floor, which vectors were
already compared, the pixel fingerprint of images in very close pairs, and the groups
people said are not duplicates.

Groups are not stored: they are formed from the pairs for the threshold asked for
(duplicates/grouping.py), so a slider can move the threshold anywhere above the floor.
"""

from django.conf import settings
from django.db import models

from features.models import FeatureVector
from gallery.models import Image


class DuplicatePair(models.Model):
    """Two images whose plain vectors (one extractor) are at least DUPLICATE_FLOOR alike.

    Keyed by the two vector rows (``first`` has the lower id), so deleting an image, or
    its vector, deletes its pairs. The image ids are copied so grouping reads one table.
    """

    first = models.ForeignKey(FeatureVector, on_delete=models.CASCADE, related_name="+")
    second = models.ForeignKey(FeatureVector, on_delete=models.CASCADE, related_name="+")
    first_image_id = models.BigIntegerField()
    second_image_id = models.BigIntegerField()
    extractor = models.CharField(max_length=100)
    # Cosine similarity of the two plain vectors.
    similarity = models.FloatField()
    # How well one thumbnail is found inside the other (duplicates.pixels.match_score),
    # for pairs the vectors leave in doubt; null for the others.
    match = models.FloatField(null=True, blank=True)
    # What thresholds compare: the similarity, or the match where the match makes the
    # pair a copy (at least DUPLICATE_MATCH) and is higher.
    score = models.FloatField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["first", "second"], name="one_pair")]
        indexes = [models.Index(fields=["extractor", "-score"], name="pair_by_score")]

    def __str__(self):
        return f"{self.first_image_id} ~ {self.second_image_id} ({self.score:.4f})"


class DuplicateScan(models.Model):
    """A vector whose neighbours above the floor have been looked for: vectors without one
    are the duplicate finder's work."""

    vector = models.OneToOneField(FeatureVector, on_delete=models.CASCADE, primary_key=True,
                                  related_name="+")

    def __str__(self):
        return f"scanned {self.vector_id}"


class PixelDigest(models.Model):
    """A hash of an image's decoded pixels (upright, with its mode and size): equal for the
    same picture saved again losslessly or with other metadata. Made only for images in a
    pair close enough to be such a copy."""

    image = models.OneToOneField(Image, on_delete=models.CASCADE, primary_key=True,
                                 related_name="+")
    digest = models.CharField(max_length=64)

    def __str__(self):
        return f"{self.image_id}: {self.digest[:12]}"


class DuplicateDismissal(models.Model):
    """Someone said these images are not duplicates: a group made only of them is not
    listed again (one with a new image is)."""

    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")
    decided_at = models.DateTimeField(auto_now_add=True)

    def __str__(self):
        return f"not duplicates #{self.pk}"


class DismissedImage(models.Model):
    dismissal = models.ForeignKey(DuplicateDismissal, on_delete=models.CASCADE,
                                  related_name="members")
    image = models.ForeignKey(Image, on_delete=models.CASCADE, related_name="+")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["dismissal", "image"],
                                               name="one_dismissed_image")]

    def __str__(self):
        return f"{self.image_id} in {self.dismissal_id}"
