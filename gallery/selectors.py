"""Reads of the library."""

from django.db.models import QuerySet

from core.errors import NotFound
from gallery.models import Image


def image_list(*, kind: str = Image.Kind.ALL, name_contains: str = "") -> QuerySet[Image]:
    images = Image.objects.of_kind(kind).select_related("uploaded_by")
    if name_contains:
        images = images.filter(name__icontains=name_contains)
    return images


def image_get(*, pk=None, filename=None) -> Image:
    lookup = {"pk": pk} if pk is not None else {"filename": filename}
    try:
        return Image.objects.get(**lookup)
    except (Image.DoesNotExist, ValueError):
        raise NotFound(f"No image {pk if pk is not None else filename!r} in the library.") from None
