from django.conf import settings
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.generics import ListAPIView
from rest_framework.parsers import JSONParser
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts import rules
from core.pagination import Pagination
from duplicates import selectors, services
from duplicates.pair_signals import group_pairs
from duplicates.api.serializers import (
    DismissalSerializer,
    DuplicateGroupSerializer,
    ResolutionSerializer,
    ResolveSerializer,
    ThresholdSerializer,
)
from gallery.api.extensions import image_fields_attach


class GroupPagination(Pagination):
    """The project's pages, with the threshold they were formed at and the slider's range."""

    page_size = 20

    def get_paginated_response(self, data):
        response = super().get_paginated_response(data)
        response.data.update({
            "threshold": self.threshold,
            "default_threshold": float(settings.DUPLICATE_THRESHOLD),
            "min_threshold": float(settings.DUPLICATE_FLOOR),
        })
        return response

    def get_paginated_response_schema(self, schema):
        schema = super().get_paginated_response_schema(schema)
        for name in ("threshold", "default_threshold", "min_threshold"):
            schema["properties"][name] = {"type": "number"}
        return schema


class DuplicateGroupListApi(ListAPIView):
    """Groups of near-duplicate images, closest first; each group's images best keeper first."""

    serializer_class = DuplicateGroupSerializer
    pagination_class = GroupPagination

    @extend_schema(parameters=[ThresholdSerializer])
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    def list(self, request, *args, **kwargs):
        query = ThresholdSerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        threshold = query.threshold_or_default()
        groups = selectors.duplicate_grouping(threshold=threshold).groups
        self.paginator.threshold = threshold
        page = self.paginate_queryset(groups)
        pairs = group_pairs(page, extractor=selectors.duplicates_extractor(),
                            threshold=threshold)
        context = {**self.get_serializer_context(), "images": selectors.group_images(
            page, attach=image_fields_attach),
                   "pairs": pairs, "threshold": threshold}
        return self.get_paginated_response(
            DuplicateGroupSerializer(page, many=True, context=context).data)


class DuplicateGroupResolveApi(APIView):
    """Keep some of a group's images and delete the others (each as the delete rules allow)."""

    access = {"POST": rules.can_delete_uploads}
    parser_classes = [JSONParser]
    error_statuses = (409,)  # the group changed since it was listed

    @extend_schema(request=ResolveSerializer, responses=ResolutionSerializer)
    def post(self, request, key: str):
        body = ResolveSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        resolution = services.group_resolve(key=key, threshold=body.threshold_or_default(),
                                            keep=body.validated_data.get("keep"),
                                            by=request.user)
        return Response(ResolutionSerializer(resolution).data)


class DuplicateGroupDismissApi(APIView):
    """Say a group's images are not duplicates: it is not listed again unless an image joins."""

    access = {"POST": rules.can_review_duplicates}
    parser_classes = [JSONParser]
    error_statuses = (409,)  # the group changed since it was listed

    @extend_schema(request=ThresholdSerializer, responses={201: DismissalSerializer})
    def post(self, request, key: str):
        body = ThresholdSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        dismissal = services.group_dismiss(key=key, threshold=body.threshold_or_default(),
                                           by=request.user)
        return Response(DismissalSerializer(dismissal).data, status=status.HTTP_201_CREATED)


class DuplicateDecisionListApi(ListAPIView):
    """The "not duplicates" decisions, newest first (editors and admins)."""

    serializer_class = DismissalSerializer
    access = {"GET": rules.can_review_duplicates}

    def get_queryset(self):
        return selectors.decision_list()


class DuplicateDecisionDetailApi(APIView):
    """Undo a "not duplicates" decision (admins): its group is listed again."""

    access = {"DELETE": rules.can_undo_duplicate_decisions}

    @extend_schema(responses={204: None})
    def delete(self, request, decision_id: int):
        services.decision_undo(decision_id=decision_id)
        return Response(status=status.HTTP_204_NO_CONTENT)


class DuplicatesResolveAllApi(APIView):
    """Resolve every listed group with the keeper rule."""

    access = {"POST": rules.can_delete_uploads}
    parser_classes = [JSONParser]

    @extend_schema(request=ThresholdSerializer, responses=ResolutionSerializer)
    def post(self, request):
        body = ThresholdSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        resolution = services.groups_resolve_all(threshold=body.threshold_or_default(),
                                                 by=request.user)
        return Response(ResolutionSerializer(resolution).data)
