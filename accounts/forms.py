from django import forms
from django.contrib.auth.forms import AuthenticationForm, BaseUserCreationForm
from django.contrib.auth.models import User


class SignInForm(AuthenticationForm):
    error_messages = {
        **AuthenticationForm.error_messages,
        "invalid_login": "The user name or password is wrong. Both are case-sensitive.",
    }


class FirstAdministratorForm(BaseUserCreationForm):
    """User name and a password typed twice, checked by Django's password validators."""

    class Meta:
        model = User
        fields = ["username"]
        field_classes = {"username": forms.CharField}
