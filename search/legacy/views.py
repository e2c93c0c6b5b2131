"""The original app's search endpoint, same path and JSON shape."""

from drf_spectacular.utils import extend_schema
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.response import Response

from accounts import rules
from accounts.throttles import SearchUploadRate
from core.errors import InvalidInput
from core.legacy import LegacyApiView
from gallery.uploads import upload_files
from search import services
from search.api.serializers import LegacySearchRequestSerializer, LegacySearchResponseSerializer


class LegacySearchApi(LegacyApiView):
    """The 6 library images most similar to the uploaded one (multipart field "file")."""

    parser_classes = [MultiPartParser, FormParser]
    access = {"POST": rules.can_view}
    throttle_classes = [SearchUploadRate]
    error_statuses = (409,)  # no vectors to search yet

    @extend_schema(tags=["original app"],
                   request={"multipart/form-data": LegacySearchRequestSerializer},
                   responses=LegacySearchResponseSerializer)
    def post(self, request):
        files = upload_files(request)
        if len(files) != 1:
            raise InvalidInput(
                "Send one query image in the 'file' field." if not files
                else "This endpoint takes one query image; send one file.",
                code="no_file" if not files else "too_many_files",
            )
        outcome = services.search_by_upload(upload=files[0])
        return Response(LegacySearchResponseSerializer(outcome).data)
