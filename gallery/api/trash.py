"""The trash: deleted uploads, restored or deleted for good by their owner or an admin."""

from datetime import timedelta

from django.conf import settings
from drf_spectacular.utils import extend_schema
from rest_framework import generics, serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts import rules
from gallery import selectors, trash
from gallery.api.serializers import ImageSerializer
from gallery.models import Image


class TrashedImageSerializer(ImageSerializer):
    trashed_at = serializers.DateTimeField(read_only=True, help_text="When it was deleted.")
    trashed_by = serializers.SlugRelatedField(slug_field="username", read_only=True,
                                              help_text="Who deleted it.")
    purge_at = serializers.SerializerMethodField(  # a date-time string
        help_text="When the daily purge deletes it for good (TRASH_DAYS after trashed_at).")

    class Meta(ImageSerializer.Meta):
        model = Image
        fields = ImageSerializer.Meta.fields + ["trashed_at", "trashed_by", "purge_at"]
        read_only_fields = fields

    def get_fields(self):
        # The library's extra fields (labels) describe live images only.
        return {name: field for name, field in super().get_fields().items()
                if name in self.Meta.fields}

    def get_purge_at(self, image: Image) -> str:
        return serializers.DateTimeField().to_representation(
            image.trashed_at + timedelta(days=settings.TRASH_DAYS))


class TrashEmptyResponseSerializer(serializers.Serializer):
    deleted = serializers.IntegerField(help_text="How many images were deleted for good.")


class TrashListApi(generics.ListAPIView):
    """Your deleted uploads (an admin's: everyone's), most recently deleted first."""

    serializer_class = TrashedImageSerializer
    access = {"GET": rules.can_delete_uploads}

    def get_queryset(self):
        return selectors.trash_list(user=self.request.user)


class TrashImageApi(APIView):
    """DELETE: delete one image of the trash for good, with its files."""

    access = {"DELETE": rules.can_delete_uploads}

    @extend_schema(responses={204: None})
    def delete(self, request, pk: int):
        trash.image_purge(image=selectors.trash_get(pk=pk, user=request.user), by=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


class TrashRestoreApi(APIView):
    """Bring an image back from the trash into the library (queued for features again)."""

    access = {"POST": rules.can_delete_uploads}

    @extend_schema(request=None, responses=ImageSerializer)
    def post(self, request, pk: int):
        image = trash.image_restore(image=selectors.trash_get(pk=pk, user=request.user),
                                    by=request.user)
        return Response(ImageSerializer(image, context={"request": request}).data)


class TrashEmptyApi(APIView):
    """Delete for good everything in your trash (an admin's: everyone's)."""

    access = {"POST": rules.can_delete_uploads}

    @extend_schema(request=None, responses=TrashEmptyResponseSerializer)
    def post(self, request):
        return Response({"deleted": trash.trash_empty(by=request.user)})
