from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts import rules
from features.api.serializers import FeatureJobSerializer, FeatureStatusSerializer
from features.extractors.loader import get_extractor
from features.jobs import embedded, services
from features.selectors import feature_status_body, job_body


@extend_schema(tags=["features"])
class FeatureJobStartApi(APIView):
    access = {"POST": rules.can_generate}

    @extend_schema(request=None, responses={202: FeatureJobSerializer, 200: FeatureJobSerializer},
                   summary="Generate features for every image without a vector",
                   description="Starts a job (202), or returns the running one (200). "
                               "503 when the model weights are not available.")
    def post(self, request):
        job, created = services.job_start(extractor=get_extractor())
        embedded.wake()
        return Response(job_body(job),
                        status=status.HTTP_202_ACCEPTED if created else status.HTTP_200_OK)


@extend_schema(tags=["features"])
class FeatureStatusApi(APIView):
    @extend_schema(responses=FeatureStatusSerializer,
                   summary="The current job and the counts, for the configured extractor "
                           "and the one searches use")
    def get(self, request):
        return Response(feature_status_body())
