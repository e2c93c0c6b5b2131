from django.urls import path

from duplicates.api import views

urlpatterns = [
    path("duplicates/", views.DuplicateGroupListApi.as_view(), name="api-duplicates"),
    path("duplicates/resolve-all/", views.DuplicatesResolveAllApi.as_view(),
         name="api-duplicates-resolve-all"),
    path("duplicates/decisions/", views.DuplicateDecisionListApi.as_view(),
         name="api-duplicate-decisions"),
    path("duplicates/decisions/<int:decision_id>/", views.DuplicateDecisionDetailApi.as_view(),
         name="api-duplicate-decision"),
    path("duplicates/<str:key>/resolve/", views.DuplicateGroupResolveApi.as_view(),
         name="api-duplicate-resolve"),
    path("duplicates/<str:key>/not-duplicates/", views.DuplicateGroupDismissApi.as_view(),
         name="api-duplicate-dismiss"),
]
