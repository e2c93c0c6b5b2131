from django.urls import path

from gallery import views

urlpatterns = [
    path("", views.index, name="index"),
    path("images/thumb/<str:filename>", views.image_thumbnail, name="image-thumbnail"),
    path("images/<str:filename>", views.image_file, name="image-file"),
]
