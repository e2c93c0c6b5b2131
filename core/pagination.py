from django.core.paginator import Paginator
from django.utils.functional import cached_property
from django.db.models import QuerySet
from rest_framework.exceptions import ValidationError
from rest_framework.pagination import PageNumberPagination, _positive_int


class KeysFirstPaginator(Paginator):
    """A page of a queryset read in two steps: the page's primary keys, which the database
    finds in an index alone however deep the page, then those rows with everything they
    join and prefetch. In one step, every row skipped to reach a deep page is read whole
    and joined first (a third of a second, half-way through a million images).

    A queryset that knows its count (``known_count``: the library's, kept by triggers) is
    not counted: at a million images the count was over half of a page's time."""

    @cached_property
    def count(self):
        known_count = getattr(self.object_list, "known_count", None)
        return known_count() if known_count is not None else super().count

    def _get_page(self, object_list, number, paginator):
        query = getattr(object_list, "query", None)
        # Rows that are more than themselves (annotated, distinct) are read in one step.
        if (isinstance(object_list, QuerySet) and query.is_sliced and not query.annotations
                and not query.distinct):
            # A queryset may know a cheaper way to its page's keys (labels/querysets.py).
            page_keys = getattr(object_list, "page_keys", None)
            keys = (page_keys(count=paginator.count) if page_keys
                    else _keys(object_list, paginator.count))
            # The rows by key alone (the filters were the first step's), joined and
            # prefetched as the queryset asks.
            full = self.object_list
            rows = full.model._base_manager.filter(pk__in=keys)
            rows.query.select_related = full.query.select_related
            rows = rows.prefetch_related(*full._prefetch_related_lookups)
            by_key = {row.pk: row for row in rows}
            object_list = [by_key[key] for key in keys if key in by_key]
        return super()._get_page(object_list, number, paginator)


def _keys(sliced: QuerySet, count: int) -> list:
    """A slice's primary keys, in order. Past the middle they are read from the other end
    and turned around: the last page of a million skips a few entries of the index rather
    than all the others (at a million images, 123 ms before, 71 to 80 with the count)."""
    low, high = sliced.query.low_mark, sliced.query.high_mark
    high = count if high is None else min(high, count)
    if _totally_ordered(sliced) and count and low > count - high:
        whole = sliced._chain()
        whole.query.clear_limits()
        return list(whole.reverse().values_list("pk", flat=True)[count - high:count - low])[::-1]
    return list(sliced.values_list("pk", flat=True))


def _totally_ordered(queryset: QuerySet) -> bool:
    """Ordered down to the primary key, so that read backwards every row keeps its place
    (ties in another column could come out in another order)."""
    query = queryset.query
    ordering = query.order_by or (queryset.model._meta.ordering if query.default_ordering else ())
    return bool(ordering) and str(ordering[-1]).lstrip("-") in (
        "pk", queryset.model._meta.pk.name)


class Pagination(PageNumberPagination):
    """Page-number pages; clients may ask for up to 200 items a page."""

    django_paginator_class = KeysFirstPaginator
    page_size_query_param = "page_size"
    max_page_size = 200

    def get_page_size(self, request):
        if self.page_size_query_param not in request.query_params:
            return self.page_size
        # A page size that is not a whole number from 1 is refused, not ignored.
        try:
            return _positive_int(request.query_params[self.page_size_query_param],
                                 strict=True, cutoff=self.max_page_size)
        except ValueError:
            raise ValidationError({self.page_size_query_param: [
                f"A whole number from 1 (at most {self.max_page_size} are sent)."]}) from None

    def paginate_queryset(self, queryset, request, view=None):
        # DRF reads an empty or non-numeric page as page 1 or "invalid page" (404): a page
        # that is not a whole number from 1 is a bad request, as the schema says.
        page = request.query_params.get(self.page_query_param)
        if page is not None and page != "last":
            try:
                _positive_int(page, strict=True)
            except ValueError:
                raise ValidationError({self.page_query_param: [
                    "A whole number from 1."]}) from None
        return super().paginate_queryset(queryset, request, view)

    def get_schema_operation_parameters(self, view):
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            parameter["schema"]["minimum"] = 1
            if parameter["name"] == self.page_size_query_param:
                parameter["description"] = (f"Items a page (default {self.page_size}; at most "
                                            f"{self.max_page_size} are sent).")
        return parameters
