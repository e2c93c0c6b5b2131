from django.urls import path

import gallery.converters  # noqa: F401  (registers <stored_name:...>)
from gallery.legacy import views

urlpatterns = [
    path("api/images", views.LegacyImageListApi.as_view(), name="legacy-images"),
    path("api/upload-image", views.LegacyUploadImageApi.as_view(), name="legacy-upload-image"),
    path("api/delete-image/<stored_name:filename>", views.LegacyDeleteImageApi.as_view(),
         name="legacy-delete-image"),
]
