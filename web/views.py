"""The web page: the Gallery and Search tabs over the three apps' APIs."""

from django.conf import settings
from django.shortcuts import render
from django.views.decorators.http import require_safe


@require_safe
def index(request):
    # The upload hint shows the configured limit (MAX_UPLOAD_MB), not a fixed number.
    megabytes = round(settings.IMAGESIM_MAX_UPLOAD_BYTES / (1024 * 1024), 1)
    return render(request, "web/index.html", {
        "max_upload_mb": int(megabytes) if megabytes.is_integer() else megabytes,
    })
