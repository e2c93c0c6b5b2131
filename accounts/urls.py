from django.contrib.auth.views import LogoutView
from django.urls import path

from accounts import views

urlpatterns = [
    path("accounts/sign-in/", views.SignInView.as_view(), name="sign-in"),
    path("accounts/sign-out/", LogoutView.as_view(), name="sign-out"),
    path("accounts/first-administrator/", views.first_admin, name="first-admin"),
]
