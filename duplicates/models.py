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


class ImageHash(models.Model):
    """An image's perceptual hashes (duplicates/hashing.py), made once from its thumbnail by
    the feature worker: upright, turned left, turned right and mirrored, and the hash of
    the picture inside its canvas (null when there is none to trim), each a 64-bit hash
    stored signed. All null when the thumbnail could not be read (not tried again)."""

    image = models.OneToOneField(Image, on_delete=models.CASCADE, related_name="+")
    upright = models.BigIntegerField(null=True)
    turned_left = models.BigIntegerField(null=True)
    turned_right = models.BigIntegerField(null=True)
    mirrored = models.BigIntegerField(null=True)
    trimmed = models.BigIntegerField(null=True)
    # Its neighbours by Hamming distance have been looked for (the hash finder's work).
    paired = models.BooleanField(default=False)

    class Meta:
        indexes = [models.Index(fields=["paired"], name="hash_unpaired",
                                condition=models.Q(paired=False))]

    def __str__(self):
        return f"{self.image_id}: {self.upright}"


class HashPair(models.Model):
    """Two images whose hashes are at most DUPLICATE_HASH_DISTANCE bits apart: copies
    (``first`` has the lower id). Kept apart from DuplicatePair as it needs no vectors: the hash is the same
    for every extractor, and a copy is paired before its vector is made."""

    first = models.ForeignKey(Image, on_delete=models.CASCADE, related_name="+")
    second = models.ForeignKey(Image, on_delete=models.CASCADE, related_name="+")
    # Bits apart, the least over the later image's hashes against the other's upright and
    # trimmed ones.
    distance = models.PositiveSmallIntegerField()
    # What thresholds compare: the share of equal bits (duplicates.hash_finding.hash_score).
    score = models.FloatField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["first", "second"],
                                               name="one_hash_pair")]
        indexes = [models.Index(fields=["-score"], name="hash_pair_by_score")]

    def __str__(self):
        return f"{self.first_id} ~ {self.second_id} ({self.distance} bits)"
