"""The web page: the Gallery, Search and Duplicates tabs over the apps' APIs."""

from django.conf import settings
from django.shortcuts import redirect, render
from django.templatetags.static import static
from django.views.decorators.http import require_safe

from accounts import rules
from accounts.decorators import page_rule_required
from accounts.roles import role_of


@require_safe
def favicon(request):
    """Browsers ask for /favicon.ico where a page names no icon (the admin's): the SVG one.
    Anyone may have it, as any static file."""
    return redirect(static("web/favicon.svg"))


@require_safe
@page_rule_required(rules.can_view)
def index(request):
    user = request.user
    # The upload hint shows the configured limit (MAX_UPLOAD_MB), not a fixed number.
    megabytes = round(settings.IMAGESIM_MAX_UPLOAD_BYTES / (1024 * 1024), 1)
    return render(request, "web/index.html", {
        "max_upload_mb": int(megabytes) if megabytes.is_integer() else megabytes,
        # What the page offers; the server checks every request against the same rules.
        "can_upload": rules.can_upload(user),
        "can_generate": rules.can_generate(user),
        "can_delete": rules.can_delete_uploads(user),
        "can_review_duplicates": rules.can_review_duplicates(user),
        "can_manage_keys": rules.can_manage_keys(user),
        "role": role_of(user),
        "trash_days": settings.TRASH_DAYS,
        "trash_of_everyone": rules.can_delete_any(user),
    })
