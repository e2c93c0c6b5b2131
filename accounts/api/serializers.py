from rest_framework import serializers

from accounts.models import ApiKey
from core.api import StrictCharField


class ApiKeySerializer(serializers.ModelSerializer):
    id = serializers.CharField(source="prefix", read_only=True,
                               help_text="The key's public part: its first 8 characters.")
    created_at = serializers.DateTimeField(source="created", read_only=True)
    # Required although the model has a default: a form's empty field means "no name".
    name = StrictCharField(max_length=50, help_text="What the key is for (50 characters at most).")

    class Meta:
        model = ApiKey
        fields = ["id", "name", "created_at", "last_used_at"]
        read_only_fields = ["last_used_at"]


class NewApiKeySerializer(ApiKeySerializer):
    key = serializers.CharField(read_only=True,
                                help_text="The key itself: shown this once, never again.")

    class Meta(ApiKeySerializer.Meta):
        fields = [*ApiKeySerializer.Meta.fields, "key"]
