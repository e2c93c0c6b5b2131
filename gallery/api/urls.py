from django.urls import path

from gallery.api import views

urlpatterns = [
    path("images/", views.ImageListCreateApi.as_view(), name="api-images"),
    path("images/bulk-delete/", views.ImageBulkDeleteApi.as_view(), name="api-images-bulk-delete"),
    path("images/<int:pk>/", views.ImageDetailApi.as_view(), name="api-image-detail"),
]
