from django.urls import path

from gallery.legacy import views

urlpatterns = [
    path("api/images", views.LegacyImageListApi.as_view(), name="legacy-images"),
    path("api/upload-image", views.LegacyUploadImageApi.as_view(), name="legacy-upload-image"),
    path("api/delete-image/<str:filename>", views.LegacyDeleteImageApi.as_view(),
         name="legacy-delete-image"),
]
