from django import forms
from django.contrib.auth.forms import AuthenticationForm, BaseUserCreationForm
from django.contrib.auth.models import User

from accounts.setup import setup_code_matches


class SignInForm(AuthenticationForm):
    error_messages = {
        **AuthenticationForm.error_messages,
        "invalid_login": "The user name or password is wrong. Both are case-sensitive.",
    }


class FirstAdministratorForm(BaseUserCreationForm):
    """User name and a password typed twice, checked by Django's password validators; on a
    server others can reach, also the setup code from the console."""

    field_order = ["setup_code", "username", "password1", "password2"]
    setup_code = forms.CharField(
        label="Setup code", required=False, strip=True, max_length=40,
        help_text="Printed on the server's console when ImageSim started.")

    def __init__(self, *args, needs_setup_code: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.needs_setup_code = needs_setup_code
        if needs_setup_code:
            self.fields["setup_code"].required = True
        else:
            del self.fields["setup_code"]

    def clean_setup_code(self):
        code = self.cleaned_data.get("setup_code", "")
        if self.needs_setup_code and not setup_code_matches(code):
            raise forms.ValidationError(
                "That is not the setup code. Copy it from the server's console (the line "
                "printed when ImageSim started).", code="wrong_setup_code")
        return code

    class Meta:
        model = User
        fields = ["username"]
        field_classes = {"username": forms.CharField}
