"""Room in the library's API for later stages, so the library imports none of them (apps
import only downwards): a stage adds, from its AppConfig.ready, a read-only field to the
image JSON and/or a filter to the list (the labels app: ``labels`` and ``?label=``)."""

from collections.abc import Callable
from dataclasses import dataclass

from django.db.models import QuerySet
from rest_framework import serializers


@dataclass(frozen=True)
class ImageField:
    name: str
    make: Callable[[], serializers.Field]  # a new field for each serializer
    # Reads what the field shows for a whole page of images at once, and keeps it on them.
    attach: Callable[[list], None] = lambda images: None


@dataclass(frozen=True)
class ListFilter:
    name: str
    make: Callable[[], serializers.Field]  # validates the query parameter (400 when bad)
    apply: Callable[[QuerySet, object], QuerySet]


image_fields: dict[str, ImageField] = {}
list_filters: dict[str, ListFilter] = {}


def image_field_add(field: ImageField) -> None:
    image_fields[field.name] = field


def list_filter_add(list_filter: ListFilter) -> None:
    list_filters[list_filter.name] = list_filter


def image_fields_attach(images: list) -> None:
    """Every added field's data for a page of ``images``, read for all of them at once."""
    for extra in image_fields.values():
        extra.attach(images)
