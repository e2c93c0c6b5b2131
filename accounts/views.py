"""Sign-in, sign-out and the first administrator of a new install."""

from django.conf import settings
from django.contrib.auth import login
from django.contrib.auth.views import LoginView
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from accounts.forms import FirstAdministratorForm, SignInForm
from accounts.services import first_admin_create, first_run
from accounts.setup import setup_code_required
from core.errors import Conflict


class SignInView(LoginView):
    template_name = "accounts/sign_in.html"
    form_class = SignInForm
    redirect_authenticated_user = True

    def dispatch(self, request, *args, **kwargs):
        if first_run():
            return redirect("first-admin")
        return super().dispatch(request, *args, **kwargs)


@require_http_methods(["GET", "HEAD", "POST"])
def first_admin(request):
    """Shown only while no account exists; the account made here is a superuser."""
    if not first_run():
        return redirect("sign-in")
    form = FirstAdministratorForm(request.POST or None, needs_setup_code=setup_code_required())
    if request.method == "POST" and form.is_valid():
        try:
            user = first_admin_create(username=form.cleaned_data["username"],
                                      password=form.cleaned_data["password1"])
        except Conflict:  # someone else was a moment faster
            return redirect("sign-in")
        login(request, user, backend="django.contrib.auth.backends.ModelBackend")
        return redirect("index")
    return render(request, "accounts/first_admin.html", {"form": form})


def locked_out(request, original_response=None, credentials=None):
    """django-axes' answer once an account has too many failed sign-ins: the sign-in page
    again, saying so, with 429. The right password is refused too until the time is up."""
    # Unbound (the user name kept): a bound form would try the password again as it shows.
    form = SignInForm(request, initial={"username": request.POST.get("username", "")})
    response = render(request, "accounts/sign_in.html", {
        "form": form,
        "locked_out": True,
        "minutes": int(settings.AXES_COOLOFF_TIME.total_seconds() // 60),
    }, status=429)
    # The whole cool-off: the lock ends at most that long after this last failure.
    response["Retry-After"] = str(int(settings.AXES_COOLOFF_TIME.total_seconds()))
    return response
