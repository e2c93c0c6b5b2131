from django.conf import settings
from rest_framework import serializers

from core.api import MAX_ID
from gallery.models import Image


class SearchRequestSerializer(serializers.Serializer):
    file = serializers.FileField(required=False, help_text="A query image (never stored).")
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
    min_similarity = serializers.FloatField(
        required=False, min_value=0.0, max_value=1.0,
        help_text="Leave out results less similar than this (0 to 1).",
    )

    def validate(self, attrs):
        if "file" in attrs and "image_id" in attrs:
            raise serializers.ValidationError(
                {"file": ["Send either an image file or an image_id, not both."]})
        if "file" not in attrs and "image_id" not in attrs:
            raise serializers.ValidationError(
                {"file": ["Send a query: an image file in 'file', or a library image's id "
                          "in 'image_id'."]})
        return attrs


class SearchMatchSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="image.id")
    filename = serializers.CharField(source="image.filename")
    name = serializers.CharField(source="image.name")
    similarity = serializers.FloatField(help_text="Cosine similarity, 0 to 1.")
    url = serializers.CharField(source="image.get_absolute_url")
    thumbnail_url = serializers.CharField(source="image.get_thumbnail_url")
    is_original = serializers.BooleanField(source="image.is_original")


class SearchQuerySerializer(serializers.Serializer):
    image_id = serializers.IntegerField(source="query_image_id", allow_null=True)
    name = serializers.CharField(source="query_name")


class SearchResponseSerializer(serializers.Serializer):
    results = SearchMatchSerializer(source="matches", many=True)
    query = SearchQuerySerializer(source="*")
    extractor = serializers.CharField()


class LegacySearchRequestSerializer(serializers.Serializer):
    file = serializers.FileField(help_text="The query image (never stored).")


class LegacySearchMatchSerializer(serializers.Serializer):
    filename = serializers.CharField(source="image.filename")
    similarity = serializers.FloatField()
    image_url = serializers.CharField(source="image.get_absolute_url")


class LegacySearchResponseSerializer(serializers.Serializer):
    results = LegacySearchMatchSerializer(source="matches", many=True)
