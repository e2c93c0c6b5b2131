"""Labels in the admin: each image's top labels in the image list and on its page, search
by label name, and the label rows themselves, read-only."""

from django.contrib import admin
from django.db.models import Prefetch
from django.utils.html import format_html

from gallery.models import Image
from labels.models import ImageLabel

# Built on whatever admin the image has by now (gallery's, with features' filter and action).
ImageAdminBase = type(admin.site.get_model_admin(Image))
admin.site.unregister(Image)


def _labels_text(image) -> str:
    return ", ".join(f"{label.name} ({label.score:.0%})" for label in image.labels.all()) or "—"


@admin.register(Image)
class ImageLabelsAdmin(ImageAdminBase):
    list_display = [*ImageAdminBase.list_display, "top_labels"]
    search_fields = [*ImageAdminBase.search_fields, "labels__name"]
    readonly_fields = [*ImageAdminBase.readonly_fields, "top_labels"]
    fields = [*ImageAdminBase.fields, "top_labels"]

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related(
            Prefetch("labels", queryset=ImageLabel.objects.order_by("rank")))

    @admin.display(description="Labels")
    def top_labels(self, image):
        text = _labels_text(image)
        return format_html('<span class="imagesim-admin-labels" title="{}">{}</span>', text, text)

    class Media:
        css = {"all": ["labels/admin.css"]}  # no inline styles: the CSP forbids them


@admin.register(ImageLabel)
class ImageLabelAdmin(admin.ModelAdmin):
    list_display = ["image", "rank", "name", "wnid", "score", "extractor"]
    list_select_related = ["image"]
    search_fields = ["name", "wnid", "image__name"]

    def has_add_permission(self, request):
        return False  # made by the feature worker from the vectors

    def has_change_permission(self, request, obj=None):
        return False
