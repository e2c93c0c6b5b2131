"""Reads of the library."""

from functools import partial

from django.db import connection
from django.db.models import QuerySet

from accounts import rules
from core.errors import NotFound
from gallery.models import Image, LiveCount


def image_list(*, kind: str = Image.Kind.ALL, name_contains: str = "") -> QuerySet[Image]:
    images = Image.objects.of_kind(kind).select_related("uploaded_by")
    if name_contains:
        return images.filter(name__icontains=name_contains)
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
