"""Labels in the admin: each image's top labels in the image list and on its page, search
by label name (added to the library's image admin through gallery/admin/extensions.py),
and the label rows themselves, read-only."""

from django.contrib import admin
from django.db.models import Prefetch
from django.utils.html import format_html

from gallery.admin import extensions
from labels.models import ImageLabel


@admin.display(description="Labels")
def top_labels(image) -> str:
    text = ", ".join(f"{label.name} ({label.score:.0%})" for label in image.labels.all()) or "—"
    return format_html('<span class="imagesim-admin-labels" title="{}">{}</span>', text, text)


def _with_labels(images):
    return images.prefetch_related(Prefetch("labels",
                                            queryset=ImageLabel.objects.order_by("rank")))


extensions.column_add(extensions.Column(top_labels, prefetch=_with_labels))
extensions.search_field_add("labels__name")
# The labels on one line, cut short: rows stay as high as their previews.
extensions.stylesheet_add("labels/admin.css")


@admin.register(ImageLabel)
class ImageLabelAdmin(admin.ModelAdmin):
    list_display = ["image", "rank", "name", "wnid", "score", "extractor"]
    list_select_related = ["image"]
    search_fields = ["name", "wnid", "image__name"]

    def has_add_permission(self, request):
        return False  # made by the feature worker from the vectors

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        # The worker remakes only the labels of vectors written since it last looked.
        return False
