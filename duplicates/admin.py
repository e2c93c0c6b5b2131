from django.contrib import admin

from duplicates.models import DuplicateDismissal


@admin.register(DuplicateDismissal)
class DuplicateDismissalAdmin(admin.ModelAdmin):
    """"Not duplicates" decisions: deleting one lists its group again."""

    list_display = ["__str__", "images", "decided_by", "decided_at"]
    list_filter = ["decided_at"]
    search_fields = ["decided_by__username"]
    fields = ["images", "decided_by", "decided_at"]
    readonly_fields = fields

    @admin.display(description="Images")
    def images(self, decision):
        return ", ".join(str(member.image_id) for member in decision.members.all())

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("decided_by").prefetch_related(
            "members")

    def has_add_permission(self, request):
        return False  # decisions are made on the Duplicates tab

    def has_change_permission(self, request, obj=None):
        return False
