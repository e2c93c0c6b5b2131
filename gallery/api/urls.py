from django.urls import path

from gallery.api import trash, views

urlpatterns = [
    path("images/", views.ImageListCreateApi.as_view(), name="api-images"),
    path("images/bulk-delete/", views.ImageBulkDeleteApi.as_view(), name="api-images-bulk-delete"),
    path("images/<int:pk>/", views.ImageDetailApi.as_view(), name="api-image-detail"),
    path("trash/", trash.TrashListApi.as_view(), name="api-trash"),
    path("trash/empty/", trash.TrashEmptyApi.as_view(), name="api-trash-empty"),
    path("trash/<int:pk>/", trash.TrashImageApi.as_view(), name="api-trash-image"),
    path("trash/<int:pk>/restore/", trash.TrashRestoreApi.as_view(), name="api-trash-restore"),
]
