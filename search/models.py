from django.db import models


class VectorChange(models.Model):
    """One write to a feature vector row, recorded by database triggers (migration 0002).

    Whoever writes the row (a feature worker, the admin, another web process, raw
    SQL), the database itself appends its id here, so every process's in-memory
    index learns what changed from one indexed read: ``max(id)``, then only the
    changes past the last one it applied. Changing an image's ``is_original``
    records its vectors too (the index filters on it).
    """

    vector_id = models.BigIntegerField()
    extractor = models.CharField(max_length=100)

    def __str__(self):
        return f"change {self.pk}: vector {self.vector_id} [{self.extractor}]"


class IndexReader(models.Model):
    """A process whose in-memory index follows the change log, and how far it has read.

    The log is pruned up to the slowest reader seen lately (search/changelog.py); a
    reader not seen for a while is forgotten, and reloads its index if it comes back
    to find the log pruned past where it was.
    """

    name = models.CharField(max_length=200, unique=True)
    applied = models.BigIntegerField()
    seen_at = models.DateTimeField()

    def __str__(self):
        return f"{self.name} at change {self.applied}"


class NeighbourLink(models.Model):
    """One of a vector's nearest other vectors (same extractor), from which its augmented
    vector was blended (search/augmentation.py).

    ``neighbour_id`` is deliberately not a foreign key: when that vector is deleted the
    link stays, and that dangling link is how the worker finds the vectors to re-blend.
    """

    owner = models.ForeignKey("features.FeatureVector", on_delete=models.CASCADE,
                              related_name="+")
    extractor = models.CharField(max_length=100)
    neighbour_id = models.BigIntegerField(db_index=True)
    similarity = models.FloatField()

    class Meta:
        # With the similarity, each row's k-th neighbour is read from this index alone
        # (the worker's augmentation limits, search/augmentation.py).
        indexes = [models.Index(fields=["extractor", "owner", "similarity"],
                                name="neighbour_link_owner_kth")]

    def __str__(self):
        return f"{self.owner_id} -> {self.neighbour_id} ({self.similarity:.4f})"


class AugmentationState(models.Model):
    """How one extractor's augmented vectors were made (``Reranking.recipe``): when the
    settings change, they are all made again."""

    extractor = models.CharField(max_length=100, primary_key=True)
    recipe = models.CharField(max_length=40)
    # The vector change log's entry up to which passes looked for deleted neighbours
    # (search/augmentation.py; 0: from every link).
    changes_seen = models.BigIntegerField(default=0)
    # New at every pass (by any process): a process's own copy of the rows' limits is
    # right while this is the one it last saw (search/augmentation.py).
    generation = models.CharField(max_length=32, default="")

    def __str__(self):
        return f"{self.extractor}: {self.recipe}"
