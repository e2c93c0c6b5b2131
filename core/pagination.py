from rest_framework.exceptions import ValidationError
from rest_framework.pagination import PageNumberPagination, _positive_int


class Pagination(PageNumberPagination):
    """Page-number pages; clients may ask for up to 200 items a page."""

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
