from django.urls import path

from search.legacy import views

urlpatterns = [
    path("api/search", views.LegacySearchApi.as_view(), name="legacy-search"),
]
