"""The API's one permission class: each view names the rule of each method."""

from rest_framework.permissions import BasePermission

from accounts import rules
from accounts.authentication import ApiKeyAuthentication

SAFE_METHODS = ("GET", "HEAD", "OPTIONS")


class FollowsTheRules(BasePermission):
    """A view's ``access`` maps HTTP methods to rules (``{"POST": rules.can_upload}``).
    Reading needs ``can_view`` unless the view says otherwise; a method the view does
    not name is refused, so a new endpoint is closed until someone decides."""

    message = "Your account is not allowed to do this."

    def has_permission(self, request, view) -> bool:
        access = getattr(view, "access", {})
        rule = access.get(request.method)
        if rule is None and request.method in SAFE_METHODS:
            rule = rules.can_view
        return bool(rule and rule(request.user))


class ManagesKeys(BasePermission):
    """API keys are made, listed and revoked with a signed-in session, never with a key."""

    message = ("API keys are managed from a signed-in session (the page's \"API keys\"), "
               "not with an API key.")
    code = "session_required"

    def has_permission(self, request, view) -> bool:
        with_key = isinstance(request.successful_authenticator, ApiKeyAuthentication)
        return rules.can_manage_keys(request.user, with_key=with_key)
