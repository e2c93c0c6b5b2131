from django.conf import settings
from drf_spectacular.utils import extend_schema_field
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


class PairSerializer(serializers.Serializer):
    images = serializers.SerializerMethodField(help_text="The two images' ids, lower first.")
    score = serializers.FloatField(help_text="What the threshold compares: the highest of the "
                                             "signals that make the pair a copy.")
    similarity = serializers.FloatField(
        allow_null=True, help_text="Cosine similarity of the two images' plain vectors; null "
                                   "while either has no vector.")
    match = serializers.FloatField(
        allow_null=True, help_text="How well one thumbnail is found inside the other (-1 to "
                                   "1); null when the vectors left no doubt or found no pair.")
    hash_distance = serializers.IntegerField(
        allow_null=True, help_text="Bits (of 64) by which the perceptual hashes differ, any "
                                   "quarter turn or mirror allowed, or the picture inside "
                                   "a canvas; null when not close.")
    found_by = serializers.SerializerMethodField(
        help_text="The signals that make the pair a copy at this threshold: similarity, "
                  "match, hash.")

    def get_images(self, pair) -> list[int]:
        return [pair.first, pair.second]

    def get_found_by(self, pair) -> list[str]:
        return pair.found_by(self.context["threshold"])


class DuplicateGroupSerializer(serializers.Serializer):
    id = serializers.CharField(source="key", help_text="The group's id for actions.")
    similarity = serializers.FloatField(
        help_text="Its closest pair's score: the cosine similarity of their vectors, their "
                  "pictures' match where that shows one is a copy of the other, or the share "
                  "of equal bits of their perceptual hashes (1 - bits / 64) where those are "
                  "at most DUPLICATE_HASH_DISTANCE apart; the highest of these.")
    tier = serializers.ChoiceField(choices=["identical", "near-duplicate"],
                                   help_text="identical: the same decoded pixels.")
    size = serializers.SerializerMethodField()
    found_by = serializers.SerializerMethodField(
        help_text="Every signal that found one of its pairs: similarity, match, hash.")
    pairs = serializers.SerializerMethodField(
        help_text="The pairs that join its images at this threshold, closest first, each "
                  "with its signals.")
    images = serializers.SerializerMethodField()

    def get_size(self, group) -> int:
        return len(group.image_ids)

    def get_found_by(self, group) -> list[str]:
        signals = {signal for pair in self.context["pairs"][group.key]
                   for signal in pair.found_by(self.context["threshold"])}
        return [signal for signal in ("similarity", "match", "hash") if signal in signals]

    @extend_schema_field(PairSerializer(many=True))
    def get_pairs(self, group):
        return PairSerializer(self.context["pairs"][group.key], many=True,
                              context=self.context).data

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
