from drf_spectacular.utils import extend_schema
from rest_framework import generics, status
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts import rules
from accounts.throttles import UploadRate
from gallery import selectors, services
from gallery.api import extensions
from gallery.api.serializers import (
    BulkDeleteResponseSerializer,
    BulkDeleteSerializer,
    ImageListFilterSerializer,
    ImageSerializer,
    ImageUploadSerializer,
    UploadResponseSerializer,
)
from gallery.models import Image
from gallery.uploads import upload_files


class ImageListCreateApi(generics.ListAPIView):
    """The library, newest first; POST adds one or more images."""

    serializer_class = ImageSerializer
    parser_classes = [MultiPartParser, FormParser]
    access = {"POST": rules.can_upload}
    throttle_classes = [UploadRate]

    def get_queryset(self):
        filters = ImageListFilterSerializer(data=self.request.query_params)
        filters.is_valid(raise_exception=True)
        images = selectors.image_list(
            kind=filters.validated_data["kind"] or Image.Kind.ALL,
            name_contains=filters.validated_data.get("q", ""),
        )
        for extra in extensions.list_filters.values():
            if filters.validated_data.get(extra.name) not in (None, ""):
                images = extra.apply(images, filters.validated_data[extra.name])
        return images

    def paginate_queryset(self, queryset):
        page = super().paginate_queryset(queryset)
        extensions.image_fields_attach(page or [])
        return page

    @extend_schema(parameters=[ImageListFilterSerializer])
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    @extend_schema(request={"multipart/form-data": ImageUploadSerializer},
                   responses={201: UploadResponseSerializer, 200: UploadResponseSerializer})
    def post(self, request):
        results = services.images_create(files=upload_files(request), uploaded_by=request.user)
        created = any(not result.duplicate for result in results)
        context = self.get_serializer_context()
        body = {"results": [
            {"duplicate": result.duplicate,
             "image": ImageSerializer(result.image, context=context).data}
            for result in results
        ]}
        return Response(body, status=status.HTTP_201_CREATED if created else status.HTTP_200_OK)


class ImageDetailApi(APIView):
    access = {"DELETE": rules.can_delete_uploads}

    @extend_schema(responses=ImageSerializer)
    def get(self, request, pk: int):
        image = selectors.image_get(pk=pk)
        return Response(ImageSerializer(image, context={"request": request}).data)

    @extend_schema(responses={204: None})
    def delete(self, request, pk: int):
        services.image_delete(image=selectors.image_get(pk=pk), by=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


class ImageBulkDeleteApi(APIView):
    """Delete many uploads at once: all of them, or none if any is an original, missing or
    not yours to delete."""

    access = {"POST": rules.can_delete_uploads}

    @extend_schema(request=BulkDeleteSerializer, responses=BulkDeleteResponseSerializer)
    def post(self, request):
        serializer = BulkDeleteSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        deleted = services.images_delete_by_ids(ids=serializer.validated_data["ids"],
                                                by=request.user)
        return Response({"deleted": deleted})

