from drf_spectacular.utils import extend_schema
from rest_framework import generics, status
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts import keys, rules
from accounts.api.serializers import ApiKeySerializer, NewApiKeySerializer
from accounts.models import ApiKey
from accounts.permissions import FollowsTheRules, ManagesKeys
from accounts.throttles import KeyCreateRate
from core.errors import NotFound


@extend_schema(tags=["api keys"])
class ApiKeyListCreateApi(generics.ListAPIView):
    """Your own API keys, newest first; POST makes one (the key is in that answer only)."""

    serializer_class = ApiKeySerializer
    access = {"GET": rules.can_manage_keys, "POST": rules.can_manage_keys}
    permission_classes = [FollowsTheRules, ManagesKeys]
    throttle_classes = [KeyCreateRate]
    pagination_class = None

    def get_queryset(self):
        return ApiKey.objects.filter(user=self.request.user).order_by("-created")

    @extend_schema(request=ApiKeySerializer, responses={201: NewApiKeySerializer})
    def post(self, request):
        serializer = ApiKeySerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        api_key, key = keys.api_key_create(user=request.user,
                                           name=serializer.validated_data["name"])
        api_key.key = key
        return Response(NewApiKeySerializer(api_key).data, status=status.HTTP_201_CREATED)


@extend_schema(tags=["api keys"])
class ApiKeyDetailApi(APIView):
    access = {"DELETE": rules.can_manage_keys}
    permission_classes = [FollowsTheRules, ManagesKeys]

    @extend_schema(responses={204: None}, summary="Revoke one of your keys, for good")
    def delete(self, request, key_id: str):
        api_key = ApiKey.objects.filter(prefix=key_id, user=request.user).first()
        if api_key is None:
            raise NotFound(f"You have no API key {key_id!r}.")
        keys.api_key_revoke(api_key=api_key)
        return Response(status=status.HTTP_204_NO_CONTENT)
