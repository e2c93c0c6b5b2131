from django.conf import settings
from rest_framework import serializers

from core.api import MAX_ID, StrictFloatField
from gallery.api.serializers import ImageSerializer


class ThresholdSerializer(serializers.Serializer):
    def get_fields(self):
        # Made per request: the floor is a setting, and the schema states its bounds.
        floor = float(settings.DUPLICATE_FLOOR)
        message = (f"The threshold must be between {floor:g} and 1 (pairs less alike than "
                   f"{floor:g} are not kept).")
        return {**super().get_fields(), "threshold": StrictFloatField(
            required=False, min_value=floor, max_value=1.0,
            error_messages={"min_value": message, "max_value": message},
            help_text="Least score (see a group's similarity) that makes two images "
                      "duplicates: from DUPLICATE_FLOOR to 1; default DUPLICATE_THRESHOLD.")}

    def threshold_or_default(self) -> float:
        return self.validated_data.get("threshold", float(settings.DUPLICATE_THRESHOLD))


class ResolveSerializer(ThresholdSerializer):
    keep = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=MAX_ID), required=False,
        max_length=1000,
        help_text="Ids of the group's images to keep; the others are deleted. Default: the "
                  "keeper rule's choice (most pixels, then largest file, then oldest).")


class DuplicateGroupSerializer(serializers.Serializer):
    id = serializers.CharField(source="key", help_text="The group's id for actions.")
    similarity = serializers.FloatField(
        help_text="Its closest pair's score: the cosine similarity of their vectors, or their "
                  "pictures' match where that shows one is a copy of the other and is higher.")
    tier = serializers.ChoiceField(choices=["identical", "near-duplicate"],
                                   help_text="identical: the same decoded pixels.")
    size = serializers.SerializerMethodField()
    images = serializers.SerializerMethodField()

    def get_size(self, group) -> int:
        return len(group.image_ids)

    def get_images(self, group) -> list:
        images = self.context["images"][group.key]
        return ImageSerializer(images, many=True, context=self.context).data


class RefusalSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    filename = serializers.CharField()
    code = serializers.CharField()
    detail = serializers.CharField()


class ResolutionSerializer(serializers.Serializer):
    groups = serializers.IntegerField(help_text="Groups resolved.")
    kept = serializers.ListField(child=serializers.IntegerField())
    deleted = serializers.ListField(child=serializers.IntegerField())
    not_deleted = RefusalSerializer(many=True)


class DismissalSerializer(serializers.Serializer):
    """A "not duplicates" decision."""

    id = serializers.IntegerField(source="pk")
    images = serializers.ListField(child=serializers.IntegerField(), source="image_ids")
    decided_by = serializers.CharField(source="decided_by.username", allow_null=True,
                                       default=None, help_text="null: the account is gone.")
    decided_at = serializers.DateTimeField()
