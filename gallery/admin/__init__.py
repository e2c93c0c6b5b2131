"""The library in the admin: images with previews, filters, search and a delete that
spares originals. Later stages add to it through gallery/admin/extensions.py."""

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.options import IS_POPUP_VAR
from django.utils.html import format_html
from django.utils.translation import ngettext

from accounts import rules
from gallery import services
from gallery.admin import extensions
from gallery.models import Image


@admin.register(Image)
class ImageAdmin(admin.ModelAdmin):
    list_display = ["preview", "name", "filename", "is_original", "format", "dimensions",
                    "size_bytes", "uploaded_by", "uploaded_at"]
    list_display_links = ["preview", "name"]
    list_filter = ["is_original", "format"]
    search_fields = ["name", "filename"]
    date_hierarchy = "uploaded_at"
    list_per_page = 60
    actions = ["delete_uploads"]
    readonly_fields = ["large_preview", "filename", "file", "thumbnail", "sha256", "width",
                       "height", "format", "size_bytes", "uploaded_at", "uploaded_by"]
    fields = ["large_preview", "name", "is_original", *readonly_fields[1:]]

    @admin.display(description="")
    def preview(self, image):
        return format_html('<img class="imagesim-admin-preview" src="{}" alt="{}">',
                           image.get_thumbnail_url(), image.name)

    @admin.display(description="Preview")
    def large_preview(self, image):
        return format_html('<a href="{}"><img src="{}" alt="{}"></a>', image.get_absolute_url(),
                           image.get_thumbnail_url(), image.name)

    @admin.display(description="Size (px)")
    def dimensions(self, image):
        return f"{image.width}x{image.height}"

    @property
    def media(self):
        # Stylesheets, never inline styles (the CSP forbids them): the admin's own and
        # those the later stages added.
        return super().media + forms.Media(
            css={"all": ["gallery/admin.css", *extensions.stylesheets]})

    # What the later stages added (gallery/admin/extensions.py), read on each request.

    def get_queryset(self, request):
        images = super().get_queryset(request)
        for column in extensions.columns.values():
            images = column.prefetch(images)
        return images

    def get_list_display(self, request):
        return [*self.list_display, *(column.display for column in extensions.columns.values())]

    def get_list_filter(self, request):
        return [*self.list_filter, *extensions.list_filters.values()]

    def get_search_fields(self, request):
        return [*self.search_fields, *extensions.search_fields]

    def get_fields(self, request, obj=None):
        return [*self.fields, *self._page_columns()]

    def _page_columns(self) -> list:
        return [column.display for column in extensions.columns.values() if column.on_page]

    def get_readonly_fields(self, request, obj=None):
        readonly = [*self.readonly_fields, *self._page_columns()]
        # Marking an image original protects it for good: only a superuser decides that.
        if rules.can_change_originals(request.user):
            return readonly
        return [*readonly, "is_original"]

    def has_add_permission(self, request):
        # Images enter the library through the upload checks (page, API, commands).
        return False

    def has_delete_permission(self, request, obj=None):
        if obj is not None and (obj.is_original or not rules.can_delete(request.user, obj)):
            return False
        return super().has_delete_permission(request, obj)

    def get_actions(self, request):
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)  # it would delete originals and leave files behind
        if self.actions is None or IS_POPUP_VAR in request.GET:
            return actions  # no actions on this page
        for name, action in extensions.actions.items():
            if action.allowed(request.user):
                function, _, description = self.get_action(action.function)
                actions[name] = (function, name, description)
        return actions

    def delete_model(self, request, obj):
        services.image_delete(image=obj, by=request.user)

    @admin.action(description="Delete selected uploads to the trash (originals are skipped)",
                  permissions=["delete"])
    def delete_uploads(self, request, queryset):
        originals = queryset.filter(is_original=True).count()
        uploads = list(queryset.filter(is_original=False))
        mine = [image for image in uploads if rules.can_delete(request.user, image)]
        others = len(uploads) - len(mine)
        deleted = services.images_delete(images=mine, by=request.user)
        if deleted:
            self.message_user(request, ngettext("Moved %d image to the trash.",
                                                "Moved %d images to the trash.",
                                                deleted) % deleted, messages.SUCCESS)
        if originals:
            self.message_user(
                request,
                ngettext("Skipped %d original image: originals are protected.",
                         "Skipped %d original images: originals are protected.", originals)
                % originals,
                messages.WARNING,
            )
        if others:
            self.message_user(
                request,
                ngettext("Skipped %d upload of someone else: you can delete only your own.",
                         "Skipped %d uploads of others: you can delete only your own.", others)
                % others,
                messages.WARNING,
            )
