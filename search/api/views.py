from drf_spectacular.utils import extend_schema
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts import rules
from accounts.throttles import SearchUploadRate
from gallery.uploads import upload_file
from search import services
from search.api.serializers import (
    SearchJsonRequestSerializer,
    SearchRequestSerializer,
    SearchResponseSerializer,
)


class SearchApi(APIView):
    """The library images most similar to an uploaded image or to a library image."""

    parser_classes = [MultiPartParser, FormParser, JSONParser]
    # Searching changes nothing: whoever may browse may search.
    access = {"POST": rules.can_view}
    throttle_classes = [SearchUploadRate]
    error_statuses = (409,)  # a query image's file or the library's vectors are missing

    @extend_schema(
        request={"multipart/form-data": SearchRequestSerializer,
                 "application/json": SearchJsonRequestSerializer},
        responses=SearchResponseSerializer,
    )
    def post(self, request):
        # A JSON body cannot carry files: there 'file' and 'files' are unknown fields.
        body = SearchJsonRequestSerializer if request.content_type.startswith(
            "application/json") else SearchRequestSerializer
        serializer = body(data=request.data)
        serializer.is_valid(raise_exception=True)
        options = serializer.validated_data
        filters = {"k": options["k"], "kind": options["kind"],
                   "min_similarity": options.get("min_similarity")}
        if "files" in options or "image_ids" in options:
            outcome = services.search_by_several(
                uploads=[upload_file(file) for file in options.get("files", [])],
                image_ids=options.get("image_ids", []), **filters)
        elif "file" in options:
            outcome = services.search_by_upload(upload=upload_file(options["file"]),
                                                region=options["region"], **filters)
        else:
            outcome = services.search_by_image(image_id=options["image_id"],
                                               region=options["region"], **filters)
        return Response(SearchResponseSerializer(outcome).data)
