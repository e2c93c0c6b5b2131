from django.urls import path

import gallery.converters  # noqa: F401  (registers <stored_name:...>)
from gallery import views

urlpatterns = [
    path("images/thumb/<stored_name:filename>", views.image_thumbnail, name="image-thumbnail"),
    path("images/<stored_name:filename>", views.image_file, name="image-file"),
]
