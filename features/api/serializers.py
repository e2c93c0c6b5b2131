"""The features API's bodies as the OpenAPI schema describes them; features/selectors.py
builds them (job_body, feature_status_body) for the API and the websocket alike."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from features.models import FeatureFailure, FeatureJob
from features.selectors import FAILURES_SHOWN


class FailureSerializer(serializers.ModelSerializer):
    class Meta:
        model = FeatureFailure
        fields = ["image_id", "filename", "reason"]


class FeatureJobSerializer(serializers.ModelSerializer):
    percent = serializers.FloatField(read_only=True)
    rate = serializers.SerializerMethodField(help_text="Images per second.")
    eta_seconds = serializers.IntegerField(read_only=True, allow_null=True)
    failures = serializers.SerializerMethodField()

    class Meta:
        model = FeatureJob
        fields = ["id", "state", "total", "done", "failed", "percent", "rate", "eta_seconds",
                  "failures", "created_at", "started_at", "finished_at"]
        read_only_fields = fields

    @extend_schema_field(OpenApiTypes.FLOAT)
    def get_rate(self, job: FeatureJob) -> float:
        return round(job.rate, 2)

    @extend_schema_field(FailureSerializer(many=True))
    def get_failures(self, job: FeatureJob) -> list[dict]:
        return FailureSerializer(job.failures.all()[:FAILURES_SHOWN], many=True).data


class FeatureCountsSerializer(serializers.Serializer):
    images = serializers.IntegerField()
    with_vectors = serializers.IntegerField()
    pending = serializers.IntegerField()
    failed = serializers.IntegerField()
    original_vectors = serializers.IntegerField()
    user_vectors = serializers.IntegerField()


class ServingSerializer(serializers.Serializer):
    extractor = serializers.CharField(help_text="Fingerprint of the extractor searches use.")
    counts = FeatureCountsSerializer()


class FeatureStatusSerializer(serializers.Serializer):
    job = FeatureJobSerializer(allow_null=True)
    counts = FeatureCountsSerializer()
    extractor = serializers.CharField(help_text="Fingerprint of the configured extractor.")
    switching = serializers.BooleanField(
        help_text="True while the library is re-embedded with the configured extractor; "
                  "searches use the serving one's vectors until that completes.")
    serving = ServingSerializer()

