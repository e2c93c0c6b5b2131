from django.urls import path

from features.api import views

urlpatterns = [
    path("features/jobs/", views.FeatureJobStartApi.as_view(), name="api-features-jobs"),
    path("features/status/", views.FeatureStatusApi.as_view(), name="api-features-status"),
]
