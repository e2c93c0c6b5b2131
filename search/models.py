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
