"""The original app's library endpoints, same paths and JSON shapes."""

from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.response import Response

from accounts import rules
from accounts.throttles import UploadRate
from core.errors import InvalidInput
from core.legacy import LegacyApiView
from gallery import selectors, services
from gallery.models import Image
from gallery.uploads import upload_files


@extend_schema(tags=["original app"], responses=inline_serializer("LegacyImageList", {
    "images": serializers.ListField(child=serializers.CharField()),
    "original_images": serializers.ListField(child=serializers.CharField()),
}))
class LegacyImageListApi(LegacyApiView):
    def get(self, request):
        names = list(Image.objects.order_by("filename").values_list("filename", "is_original"))
        return Response({
            "images": [filename for filename, _ in names],
            "original_images": [filename for filename, is_original in names if is_original],
        })


@extend_schema(tags=["original app"],
               request={"multipart/form-data": inline_serializer("LegacyUploadRequest", {
                   "file": serializers.FileField()})},
               responses=inline_serializer("LegacyUploadResult", {
                   "success": serializers.BooleanField(),
                   "filename": serializers.CharField(),
                   "duplicate": serializers.BooleanField(required=False),
               }))
class LegacyUploadImageApi(LegacyApiView):
    parser_classes = [MultiPartParser, FormParser]
    access = {"POST": rules.can_upload}
    throttle_classes = [UploadRate]

    def post(self, request):
        files = upload_files(request)
        if len(files) > 1:
            raise InvalidInput("This endpoint takes one file; use /api/v1/images/ for several.",
                               code="too_many_files")
        (result,) = services.images_create(files=files, uploaded_by=request.user)
        body = {"success": True, "filename": result.image.filename}
        if result.duplicate:
            body["duplicate"] = True
        return Response(body)


@extend_schema(tags=["original app"], responses=inline_serializer("LegacySuccess", {
    "success": serializers.BooleanField()}))
class LegacyDeleteImageApi(LegacyApiView):
    access = {"DELETE": rules.can_delete_uploads}

    def delete(self, request, filename: str):
        services.image_delete(image=selectors.image_get(filename=filename), by=request.user)
        return Response({"success": True})
