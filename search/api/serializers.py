from django.conf import settings
from rest_framework import serializers

from core.api import MAX_ID, StrictFloatField
from gallery.models import Image
from search.regions import Region
from search.services import MAX_QUERY_IMAGES

REGION_FIELDS = ("x", "y", "width", "height")


class SearchRequestSerializer(serializers.Serializer):
    # An empty file is let through for the search to refuse in words of its own.
    file = serializers.FileField(required=False, allow_empty_file=True,
                                 help_text="A query image (never stored).")
    image_id = serializers.IntegerField(
        required=False, min_value=1, max_value=MAX_ID,
        help_text="A library image to use as the query."
    )
    k = serializers.IntegerField(
        required=False, default=settings.SEARCH_DEFAULT_K, min_value=1,
        max_value=settings.SEARCH_MAX_K, help_text="How many results (default 6).",
    )
    kind = serializers.ChoiceField(
        choices=Image.Kind.choices, required=False, default=Image.Kind.ALL,
        help_text="Search originals only, uploads only, or all (default).",
    )
    min_similarity = StrictFloatField(
        required=False, min_value=0.0, max_value=1.0,
        help_text="Leave out results less similar than this (0 to 1).",
    )
    files = serializers.ListField(
        child=serializers.FileField(allow_empty_file=True), required=False,
        max_length=MAX_QUERY_IMAGES,
        help_text="Several query images (never stored), alone or with image_ids: the search "
                  "finds what they have in common.",
    )
    image_ids = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=MAX_ID), required=False,
        max_length=MAX_QUERY_IMAGES,
        help_text=f"Several library images as the query, alone or with files (at most "
                  f"{MAX_QUERY_IMAGES} query images in all); they are left out of the results.",
    )
    x = StrictFloatField(required=False, min_value=0.0, max_value=1.0,
                         help_text="Region: left edge, a fraction of the image's width.")
    y = StrictFloatField(required=False, min_value=0.0, max_value=1.0,
                         help_text="Region: top edge, a fraction of the image's height.")
    width = StrictFloatField(required=False, min_value=0.0, max_value=1.0,
                             help_text="Region: width, a fraction of the image's width.")
    height = StrictFloatField(required=False, min_value=0.0, max_value=1.0,
                              help_text="Region: height, a fraction of the image's height.")

    def validate(self, attrs):
        several = "files" in attrs or "image_ids" in attrs
        if several and ("file" in attrs or "image_id" in attrs):
            raise serializers.ValidationError(
                {"files": ["To search by several images, put them all in 'files' and "
                           "'image_ids' (not 'file' or 'image_id')."]})
        if several:
            attrs["region"] = self._region(attrs, several=True)
            if not attrs.get("files") and not attrs.get("image_ids"):
                raise serializers.ValidationError(
                    {"files": ["Send at least one query image in 'files' or 'image_ids'."]})
            return attrs
        if "file" in attrs and "image_id" in attrs:
            raise serializers.ValidationError(
                {"file": ["Send either an image file or an image_id, not both."]})
        if "file" not in attrs and "image_id" not in attrs:
            raise serializers.ValidationError(
                {"file": ["Send a query: an image file in 'file', or a library image's id "
                          "in 'image_id'."]})
        attrs["region"] = self._region(attrs, several=False)
        return attrs

    @staticmethod
    def _region(attrs, *, several: bool) -> Region | None:
        given = [name for name in REGION_FIELDS if name in attrs]
        if not given:
            return None
        if several:
            raise serializers.ValidationError(
                {"x": ["A region applies to one query image, not to several."]})
        if len(given) != len(REGION_FIELDS):
            missing = [name for name in REGION_FIELDS if name not in attrs]
            raise serializers.ValidationError(
                {missing[0]: ["A region needs x, y, width and height together (missing: "
                              + ", ".join(missing) + ")."]})
        region = Region(*(attrs.pop(name) for name in REGION_FIELDS))
        if region.width <= 0 or region.height <= 0:
            raise serializers.ValidationError(
                {"width": ["A region's width and height must be more than 0."]})
        # A little slack for fractions a browser rounded.
        if region.x + region.width > 1.0001 or region.y + region.height > 1.0001:
            raise serializers.ValidationError(
                {"x": ["The region must lie inside the image: x + width and y + height at "
                       "most 1."]})
        return region


class SearchJsonRequestSerializer(SearchRequestSerializer):
    """A search as JSON: by library images only (query files need multipart/form-data)."""

    file = None
    files = None


class SearchMatchSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="image.id")
    filename = serializers.CharField(source="image.filename")
    name = serializers.CharField(source="image.name")
    similarity = serializers.FloatField(
        help_text="Cosine similarity of the query's and this image's own (plain) vectors, 0 "
                  "to 1: the measure duplicates show. Results are ranked with the re-ranked "
                  "vectors (augmentation, query expansion), so it need not fall down the list.")
    url = serializers.CharField(source="image.get_absolute_url")
    thumbnail_url = serializers.CharField(source="image.get_thumbnail_url")
    is_original = serializers.BooleanField(source="image.is_original")


class RegionSerializer(serializers.Serializer):
    x = serializers.FloatField()
    y = serializers.FloatField()
    width = serializers.FloatField()
    height = serializers.FloatField()


class SearchQuerySerializer(serializers.Serializer):
    image_id = serializers.IntegerField(source="query_image_id", allow_null=True,
                                        help_text="The library image searched with, if one.")
    image_ids = serializers.ListField(
        source="query_image_ids", child=serializers.IntegerField(),
        help_text="Every library image of the query (left out of the results).")
    name = serializers.CharField(source="query_name")
    region = RegionSerializer(allow_null=True, help_text="The region searched, if one.")


class SearchResponseSerializer(serializers.Serializer):
    results = SearchMatchSerializer(source="matches", many=True)
    query = SearchQuerySerializer(source="*")
    extractor = serializers.CharField()


class LegacySearchRequestSerializer(serializers.Serializer):
    file = serializers.FileField(allow_empty_file=True, help_text="The query image (never stored).")


class LegacySearchMatchSerializer(serializers.Serializer):
    filename = serializers.CharField(source="image.filename")
    similarity = serializers.FloatField()
    image_url = serializers.CharField(source="image.get_absolute_url")


class LegacySearchResponseSerializer(serializers.Serializer):
    results = LegacySearchMatchSerializer(source="matches", many=True)
