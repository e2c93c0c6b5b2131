from rest_framework import serializers

from accounts import rules
from core.api import MAX_ID
from gallery.api import extensions
from gallery.models import Image


class ImageSerializer(serializers.ModelSerializer):
    # Method fields: DRF inspects the signature of a method named as a source, per image.
    url = serializers.SerializerMethodField()
    thumbnail_url = serializers.SerializerMethodField()
    uploaded_by = serializers.SlugRelatedField(slug_field="username", read_only=True,
                                               allow_null=True,
                                               help_text="Who uploaded it (null: shipped or "
                                                         "added by a command).")
    can_delete = serializers.SerializerMethodField(
        help_text="Whether the requesting user may delete this image.")

    class Meta:
        model = Image
        fields = [
            "id", "filename", "name", "is_original", "width", "height", "format",
            "size_bytes", "sha256", "uploaded_at", "uploaded_by", "url", "thumbnail_url",
            "can_delete",
        ]
        read_only_fields = fields

    def get_fields(self):
        fields = super().get_fields()
        fields.update({extra.name: extra.make() for extra in extensions.image_fields.values()})
        return fields

    def to_representation(self, image: Image) -> dict:
        # The model's own fields written out: a page shows up to 200 images, and DRF's walk
        # of every field of every image took a third of a page's time. The walk stays the
        # definition (and the schema's), and reads the fields added to these (labels, a
        # subclass's); tests/gallery/test_image_json.py holds the two equal.
        fields = self.fields
        written = {
            "id": image.id, "filename": image.filename, "name": image.name,
            "is_original": image.is_original, "width": image.width, "height": image.height,
            "format": image.format, "size_bytes": image.size_bytes, "sha256": image.sha256,
            "uploaded_at": fields["uploaded_at"].to_representation(image.uploaded_at),
            "uploaded_by": image.uploaded_by.username if image.uploaded_by_id else None,
            "url": self.get_url(image), "thumbnail_url": self.get_thumbnail_url(image),
            "can_delete": self.get_can_delete(image),
        }
        return {name: written[name] if name in written else _walked(field, image)
                for name, field in fields.items()}

    def get_url(self, image: Image) -> str:
        return image.get_absolute_url()

    def get_thumbnail_url(self, image: Image) -> str:
        return image.get_thumbnail_url()

    def get_can_delete(self, image: Image) -> bool:
        request = self.context.get("request")
        if not request or image.is_original:
            return False
        if getattr(self, "_can_delete", None) is None:  # once per page: one serializer
            self._can_delete = rules.delete_check(request.user)
        return self._can_delete(image)


def _walked(field: serializers.Field, image: Image):
    """One field of ``image`` as DRF's walk gives it."""
    attribute = field.get_attribute(image)
    return None if attribute is None else field.to_representation(attribute)


class UploadResultSerializer(serializers.Serializer):
    duplicate = serializers.BooleanField(help_text="The content was already in the library.")
    image = ImageSerializer()


class UploadResponseSerializer(serializers.Serializer):
    results = UploadResultSerializer(many=True)


class ImageUploadSerializer(serializers.Serializer):
    file = serializers.ListField(
        child=serializers.FileField(), min_length=1,
        help_text="One or more image files (repeat the field)."
    )


class ImageListFilterSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(
        choices=Image.Kind.choices, default=Image.Kind.ALL, required=False, allow_blank=True,
        help_text="Originals only, uploads only, or all (default; also when empty).",
    )
    q = serializers.CharField(required=False, allow_blank=True, max_length=255,
                              help_text="Name contains.")

    def get_fields(self):
        fields = super().get_fields()
        fields.update({extra.name: extra.make() for extra in extensions.list_filters.values()})
        return fields


class BulkDeleteSerializer(serializers.Serializer):
    ids = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=MAX_ID), min_length=1, max_length=1000
    )


class BulkDeleteResponseSerializer(serializers.Serializer):
    deleted = serializers.IntegerField()
