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
