"""Reads of the library."""

from functools import partial

from django.db import connection
from django.db.models import QuerySet
from django.db.models.expressions import RawSQL

from accounts import rules
from core.errors import NotFound
from gallery.models import Image, LiveCount


# A name search matching at most this many images is answered from the names' trigram
# index (migration 0007); one matching more reads the newest-first index until a page is
# full, which is faster for a common part of names (".jpg").
NAME_INDEX_MOST = 20_000


def image_list(*, kind: str = Image.Kind.ALL, name_contains: str = "") -> QuerySet[Image]:
    images = Image.objects.of_kind(kind).select_related("uploaded_by")
    if name_contains:
        return _named(images, name_contains)
    if connection.vendor == "sqlite":
        # Unfiltered, the count is kept (LiveCount); a filter added later makes a new
        # queryset without this, which is counted.
        images.known_count = partial(live_count, kind=kind)
    return images


def live_count(*, kind: str = Image.Kind.ALL) -> int:
    """How many images of ``kind`` the library holds (SQLite: kept by triggers)."""
    wanted = Image.Kind(kind).is_original
    return sum(live for is_original, live in LiveCount.objects.values_list("is_original", "live")
               if wanted is None or is_original == wanted)


def _named(images: QuerySet[Image], text: str) -> QuerySet[Image]:
    """The images whose name contains ``text`` (ignoring ASCII case, as the database's
    LIKE does). A scan of every name took 0.4 to 0.7 s at a million images; the trigram
    index answers a rare part of a name in a millisecond. It needs three characters, and
    no LIKE wildcard to take literally."""
    if len(text) >= 3 and not any(mark in text for mark in "%_\\") and _names_indexed():
        pattern = f"%{text}%"
        with connection.cursor() as cursor:
            cursor.execute("SELECT COUNT(*) FROM (SELECT rowid FROM gallery_imagename "
                           "WHERE name LIKE %s LIMIT %s)", [pattern, NAME_INDEX_MOST + 1])
            found = cursor.fetchone()[0]
        if found <= NAME_INDEX_MOST:
            return images.filter(pk__in=RawSQL(
                "SELECT rowid FROM gallery_imagename WHERE name LIKE %s", [pattern]))
    return images.filter(name__icontains=text)


def _names_indexed() -> bool:
    """Whether this database has the names' trigram index (SQLite with FTS5)."""
    if connection.vendor != "sqlite":
        return False
    key = connection.settings_dict["NAME"]
    if key not in _indexed:
        _indexed[key] = "gallery_imagename" in connection.introspection.table_names()
    return _indexed[key]


_indexed: dict[str, bool] = {}


def image_get(*, pk=None, filename=None) -> Image:
    lookup = {"pk": pk} if pk is not None else {"filename": filename}
    try:
        return Image.objects.get(**lookup)
    except (Image.DoesNotExist, ValueError):
        raise NotFound(f"No image {pk if pk is not None else filename!r} in the library.") from None


def trash_list(*, user) -> QuerySet[Image]:
    """The trash as ``user`` sees it: their own trashed uploads, everyone's for an admin;
    most recently trashed first."""
    trashed = Image.all_objects.trashed().select_related("uploaded_by", "trashed_by")
    if not rules.can_delete_any(user):
        trashed = trashed.filter(uploaded_by=user) if user.is_authenticated else trashed.none()
    return trashed.order_by("-trashed_at", "-id")


def trash_get(*, pk, user) -> Image:
    """One image of ``user``'s trash; any other id (live, someone else's) is not found."""
    try:
        return trash_list(user=user).get(pk=pk)
    except (Image.DoesNotExist, ValueError, OverflowError):
        raise NotFound(f"No image {pk} in your trash.") from None
