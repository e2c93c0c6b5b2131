from django.urls import path

from accounts.api import views

urlpatterns = [
    path("keys/", views.ApiKeyListCreateApi.as_view(), name="api-keys"),
    path("keys/<str:key_id>/", views.ApiKeyDetailApi.as_view(), name="api-key-detail"),
]
