from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    # The split view serves Swagger UI's set-up script as a file: the CSP allows no inline script.
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="schema"), name="api-docs"),
    path("api/v1/", include("accounts.api.urls")),
    path("api/v1/", include("gallery.api.urls")),
    path("api/v1/", include("features.api.urls")),
    path("api/v1/", include("search.api.urls")),
    path("api/v1/", include("duplicates.api.urls")),
    # The original app's endpoints, same paths and JSON shapes.
    path("", include("gallery.legacy.urls")),
    path("", include("features.legacy.urls")),
    path("", include("search.legacy.urls")),
    path("", include("gallery.urls")),
    path("", include("accounts.urls")),
    path("", include("web.urls")),
]

handler400 = "core.views.bad_request"
handler404 = "core.views.page_not_found"
handler500 = "core.views.server_error"
