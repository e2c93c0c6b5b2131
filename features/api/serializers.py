"""Response shapes of the features API (for the OpenAPI schema; bodies come from selectors)."""

from rest_framework import serializers


class FailureSerializer(serializers.Serializer):
    image_id = serializers.IntegerField()
    filename = serializers.CharField()
    reason = serializers.CharField()


class FeatureJobSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    state = serializers.ChoiceField(choices=["queued", "running", "done", "failed"])
    total = serializers.IntegerField()
    done = serializers.IntegerField()
    failed = serializers.IntegerField()
    percent = serializers.FloatField()
    rate = serializers.FloatField(help_text="Images per second.")
    eta_seconds = serializers.IntegerField(allow_null=True)
    failures = FailureSerializer(many=True)
    created_at = serializers.DateTimeField()
    started_at = serializers.DateTimeField(allow_null=True)
    finished_at = serializers.DateTimeField(allow_null=True)


class FeatureCountsSerializer(serializers.Serializer):
    images = serializers.IntegerField()
    with_vectors = serializers.IntegerField()
    pending = serializers.IntegerField()
    failed = serializers.IntegerField()
    original_vectors = serializers.IntegerField()
    user_vectors = serializers.IntegerField()


class FeatureStatusSerializer(serializers.Serializer):
    job = FeatureJobSerializer(allow_null=True)
    counts = FeatureCountsSerializer()
    extractor = serializers.CharField(help_text="Fingerprint of the current extractor.")
