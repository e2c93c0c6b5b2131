from django.urls import path

from features.legacy import views

urlpatterns = [
    path("api/generate-features", views.LegacyGenerateFeaturesApi.as_view(),
         name="legacy-generate-features"),
    path("api/check-features", views.LegacyCheckFeaturesApi.as_view(), name="legacy-check-features"),
]
