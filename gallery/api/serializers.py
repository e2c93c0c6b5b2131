from rest_framework import serializers

from core.api import MAX_ID
from gallery.models import Image


class ImageSerializer(serializers.ModelSerializer):
    url = serializers.CharField(source="get_absolute_url", read_only=True)
    thumbnail_url = serializers.CharField(source="get_thumbnail_url", read_only=True)

    class Meta:
        model = Image
        fields = [
            "id", "filename", "name", "is_original", "width", "height", "format",
            "size_bytes", "sha256", "uploaded_at", "url", "thumbnail_url",
        ]
        read_only_fields = fields


class UploadResultSerializer(serializers.Serializer):
    duplicate = serializers.BooleanField(help_text="The content was already in the library.")
    image = ImageSerializer()


class UploadResponseSerializer(serializers.Serializer):
    results = UploadResultSerializer(many=True)


class ImageUploadSerializer(serializers.Serializer):
    file = serializers.ListField(
        child=serializers.FileField(), help_text="One or more image files (repeat the field)."
    )


class ImageListFilterSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(
        choices=Image.Kind.choices, default=Image.Kind.ALL, required=False,
        help_text="Originals only, uploads only, or all (default).",
    )
    q = serializers.CharField(required=False, max_length=255, help_text="Name contains.")


class BulkDeleteSerializer(serializers.Serializer):
    ids = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=MAX_ID), min_length=1, max_length=1000
    )


class BulkDeleteResponseSerializer(serializers.Serializer):
    deleted = serializers.IntegerField()
