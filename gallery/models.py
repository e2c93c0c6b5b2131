from functools import lru_cache

from django.conf import settings
from django.db import models
from django.urls import get_script_prefix, reverse


class ImageQuerySet(models.QuerySet):
    def originals(self):
        return self.filter(is_original=True)

    def uploads(self):
        return self.filter(is_original=False)

    def of_kind(self, kind: str):
        """Originals only, uploads only, or all (an ``Image.Kind`` value)."""
        is_original = Image.Kind(kind).is_original
        return self if is_original is None else self.filter(is_original=is_original)

    def trashed(self):
        return self.filter(trashed_at__isnull=False)


class LiveImageManager(models.Manager.from_queryset(ImageQuerySet)):
    """The library as everyone sees it: images in the trash are left out of every list,
    count, search result, file URL and duplicate group (gallery/trash.py)."""

    def get_queryset(self):
        return super().get_queryset().filter(trashed_at__isnull=True)


class Image(models.Model):
    """One picture in the library: its stored file, its thumbnail and what we know of it."""

    class Kind(models.TextChoices):
        """Which part of the library a list or a search covers."""

        ALL = "all", "All images"
        ORIGINAL = "original", "Originals"
        UPLOAD = "upload", "Uploads"

        @property
        def is_original(self) -> bool | None:
            """The ``is_original`` value this kind keeps (None: both)."""
            return {"all": None, "original": True, "upload": False}[self.value]

    class Format(models.TextChoices):
        JPEG = "JPEG", "JPEG"
        PNG = "PNG", "PNG"
        GIF = "GIF", "GIF"
        BMP = "BMP", "BMP"
        WEBP = "WEBP", "WebP"

    # The server-generated name the file is stored and served under (unique, URL-safe).
    filename = models.CharField(max_length=150, unique=True)
    file = models.FileField(max_length=255)
    thumbnail = models.FileField(max_length=255)
    # The name the user's file had, for display only: never used as a path.
    name = models.CharField(max_length=255)
    is_original = models.BooleanField(default=False, db_index=True)
    sha256 = models.CharField("SHA-256", max_length=64, unique=True)
    width = models.PositiveIntegerField()
    height = models.PositiveIntegerField()
    format = models.CharField(max_length=8, choices=Format.choices)
    size_bytes = models.PositiveBigIntegerField("size (bytes)")
    uploaded_at = models.DateTimeField(auto_now_add=True, db_index=True)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    # Set when moved to the trash; the row and its files stay until purged.
    trashed_at = models.DateTimeField(null=True, blank=True)
    trashed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    # The first manager is the default one (the admin's, forms'): live images only.
    # Related lookups (a vector's image) use the plain base manager and see every row.
    objects = LiveImageManager()
    all_objects = ImageQuerySet.as_manager()

    class Meta:
        ordering = ["-uploaded_at", "-id"]
        permissions = [("delete_any_image", "Can delete anyone's uploads")]
        # The library's pages, newest first, for each kind the list filters on. Partial
        # (trash left out, as every list leaves it out) and so small that a count or a
        # page deep in a million reads the index alone.
        indexes = [
            models.Index(fields=["-uploaded_at", "-id"], name="image_newest_first"),
            models.Index(fields=["-uploaded_at", "-id"], name="image_live_newest_first",
                         condition=models.Q(trashed_at__isnull=True)),
            models.Index(fields=["-uploaded_at", "-id"], name="image_live_originals",
                         condition=models.Q(trashed_at__isnull=True, is_original=True)),
            models.Index(fields=["-uploaded_at", "-id"], name="image_live_uploads",
                         condition=models.Q(trashed_at__isnull=True, is_original=False)),
            # The trash, most recently trashed first (and the daily purge's oldest).
            models.Index(fields=["-trashed_at", "-id"], name="image_trash",
                         condition=models.Q(trashed_at__isnull=False)),
        ]

    def __str__(self):
        return self.name

    @property
    def content_type(self) -> str:
        return f"image/{self.format.lower()}"

    def get_absolute_url(self) -> str:
        return _url_prefix("image-file") + self.filename

    def get_thumbnail_url(self) -> str:
        return _url_prefix("image-thumbnail") + self.filename


class DemoRemoval(models.Model):
    """Kept once the demo originals were removed from this library (manage.py remove_demo),
    so seeding them (bin/serve, on every start) leaves them out from then on."""

    removed_at = models.DateTimeField(auto_now_add=True)

    def __str__(self):
        return f"Demo originals removed at {self.removed_at:%Y-%m-%d %H:%M}"


def _url_prefix(view_name: str) -> str:
    """A file view's URL without the stored name. Stored names need no quoting in a URL
    (gallery/converters.py), so a page of 60 images needs no reverse() per image."""
    return _url_prefix_for(view_name, get_script_prefix())


@lru_cache(maxsize=16)
def _url_prefix_for(view_name: str, script_prefix: str) -> str:
    return reverse(view_name, args=["x"])[:-1]


class LiveCount(models.Model):
    """How many images are in the library (not in the trash), originals and uploads apart.

    On SQLite, triggers on every write to the images keep it (migration 0006), so a page
    of the library does not count a million rows (about 60 ms) each time it is read. A
    missing row counts 0: the insert triggers make it, and a test database's flush, which
    may empty this table before the images, leaves it right either way. PostgreSQL counts
    the images instead: many processes adding images at once would wait on these rows.
    """

    is_original = models.BooleanField(primary_key=True)
    live = models.BigIntegerField()

    def __str__(self):
        return f"{'originals' if self.is_original else 'uploads'}: {self.live}"
