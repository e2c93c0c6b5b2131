"""The access rules for plain Django views: the image files (JSON errors) and the page
(a redirect to sign-in)."""

from functools import wraps

from django.contrib.auth.views import redirect_to_login
from django.shortcuts import render

from accounts.authentication import WWW_AUTHENTICATE, request_user
from accounts.keys import InvalidKey
from core.errors import NOT_SIGNED_IN, json_error


def rule_required(rule):
    """Refuse with a JSON 401 (no or a bad credential) or 403 (not allowed)."""

    def decorate(view):
        @wraps(view)
        def checked(request, *args, **kwargs):
            try:
                user = request_user(request)
            except InvalidKey as exc:
                return _unauthorized(exc.message, code="invalid_key")
            if not rule(user):
                if not user.is_authenticated:
                    return _unauthorized(NOT_SIGNED_IN, code="not_authenticated")
                return json_error("Your account is not allowed to do this.", code="forbidden",
                                  status=403)
            request.user = user
            return view(request, *args, **kwargs)

        return checked

    return decorate


def page_rule_required(rule):
    """Send anonymous visitors to sign in; tell a signed-in user without a role why not."""

    def decorate(view):
        @wraps(view)
        def checked(request, *args, **kwargs):
            if rule(request.user):
                return view(request, *args, **kwargs)
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            return render(request, "accounts/no_role.html", status=403)

        return checked

    return decorate


def _unauthorized(message: str, *, code: str):
    response = json_error(message, code=code, status=401)
    response["WWW-Authenticate"] = WWW_AUTHENTICATE
    return response
