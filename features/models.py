import math

from django.db import models
from django.db.models import Q

from features.fields import VectorField
from gallery.models import Image


class FeatureVector(models.Model):
    """One image's vector from one extractor (identified by its fingerprint)."""

    image = models.ForeignKey(Image, on_delete=models.CASCADE, related_name="feature_vectors")
    extractor = models.CharField(max_length=100, db_index=True)
    dim = models.PositiveIntegerField()
    vector = VectorField()
    # The vector blended with its nearest others (database-side augmentation), written by
    # search's augmentation step (search/augmentation.py) in the feature worker; searches
    # compare ``augmented`` where it is set, else ``vector``. Empty while that is off.
    augmented = VectorField(null=True, blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["image", "extractor"], name="one_vector_per_extractor")
        ]
        # The vectors augmentation has still to blend (search/augmentation.py): found from
        # this small index, not by reading every vector's row (0.8 s at a million).
        indexes = [models.Index(fields=["extractor", "id"], name="vector_unaugmented",
                                condition=models.Q(augmented__isnull=True))]

    def __str__(self):
        return f"{self.image} [{self.extractor}]"


class VectorCount(models.Model):
    """How many vectors each extractor has, trash included.

    On SQLite, triggers on every write to the vectors keep it (migration 0008), so the
    features status, which the page reads on every visit and while features are made, does
    not count a million rows (about 70 ms) each time. A missing row counts 0, as with
    gallery.models.LiveCount. PostgreSQL counts the vectors instead: many workers storing
    vectors at once would wait on these rows. A later migration that makes SQLite rebuild
    the vectors' table drops its triggers (as the change log's): it must create them again.
    """

    extractor = models.CharField(max_length=100, primary_key=True)
    vectors = models.BigIntegerField()

    def __str__(self):
        return f"{self.extractor}: {self.vectors}"


class FeatureJob(models.Model):
    """One run of "generate features" for one extractor: its counters are the progress."""

    class State(models.TextChoices):
        QUEUED = "queued", "queued"
        RUNNING = "running", "running"
        DONE = "done", "done"
        FAILED = "failed", "failed"

    ACTIVE = (State.QUEUED, State.RUNNING)

    extractor = models.CharField(max_length=100, db_index=True)
    state = models.CharField(max_length=10, choices=State.choices, default=State.QUEUED)
    # total = done + failed + the job's tasks still queued (features.jobs.services.job_total_refresh).
    total = models.PositiveIntegerField(default=0)
    done = models.PositiveIntegerField(default=0)
    failed = models.PositiveIntegerField(default=0)
    rate = models.FloatField("images per second", default=0.0)
    error = models.TextField(blank=True, help_text="Why the job failed, if it did.")
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    progressed_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            # At most one job runs per extractor; a second request joins it.
            models.UniqueConstraint(fields=["extractor"], condition=Q(state__in=["queued", "running"]),
                                    name="one_active_job_per_extractor"),
        ]

    def __str__(self):
        return f"Job {self.pk} ({self.state}, {self.done + self.failed}/{self.total})"

    @property
    def is_active(self) -> bool:
        return self.state in self.ACTIVE

    @property
    def percent(self) -> float:
        if self.total:
            return round(100.0 * (self.done + self.failed) / self.total, 1)
        return 0.0 if self.is_active else 100.0

    @property
    def eta_seconds(self) -> int | None:
        """Seconds left at the current rate; 0 once done, None when unknown."""
        if not self.is_active:
            return 0 if self.state == self.State.DONE else None
        remaining = max(0, self.total - self.done - self.failed)
        return math.ceil(remaining / self.rate) if self.rate > 0 else None


class FeatureTask(models.Model):
    """An image waiting for its vector: the database is the queue.

    A worker claims a task (``claimed_by``/``claimed_at``) in a short transaction
    and deletes it in the same transaction that stores the vector, so a crash at
    any moment leaves either the task (redone later) or the vector, never neither.
    A claim older than FEATURE_CLAIM_TIMEOUT belongs to a dead worker and is taken over.
    """

    image = models.ForeignKey(Image, on_delete=models.CASCADE, related_name="+")
    extractor = models.CharField(max_length=100)
    job = models.ForeignKey(FeatureJob, null=True, on_delete=models.SET_NULL, related_name="tasks")
    claimed_by = models.CharField(max_length=200, blank=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["image", "extractor"], name="one_task_per_extractor")
        ]
        indexes = [models.Index(fields=["extractor", "claimed_at"], name="task_claimable")]

    def __str__(self):
        return f"Task {self.pk} image {self.image_id}"


class FeatureFailure(models.Model):
    """An image the extractor could not read, and why (a new job tries it again)."""

    image = models.ForeignKey(Image, on_delete=models.CASCADE, related_name="feature_failures")
    extractor = models.CharField(max_length=100)
    job = models.ForeignKey(FeatureJob, null=True, blank=True, on_delete=models.SET_NULL,
                            related_name="failures")
    filename = models.CharField(max_length=150)
    reason = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["image", "extractor"], name="one_failure_per_extractor")
        ]

    def __str__(self):
        return f"{self.filename}: {self.reason}"


class ServingExtractor(models.Model):
    """Which extractor's vectors answer searches: a single row (features/serving.py).

    It follows the configured extractor (FEATURE_EXTRACTOR and FEATURE_PRESET) only once
    that extractor's vectors cover the whole library, in one update: until then searches
    keep answering from the previous extractor's vectors, never a mix of both.
    """

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    fingerprint = models.CharField(max_length=100)
    # How to build it again for search by upload; empty for an extractor this version
    # of ImageSim cannot build (vectors left by an earlier version).
    path = models.CharField(max_length=200, blank=True)
    preset = models.CharField(max_length=60, blank=True)
    switched_at = models.DateTimeField(auto_now=True)

    def __str__(self):
        return self.fingerprint
