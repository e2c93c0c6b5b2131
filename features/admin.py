"""Features in the admin: a "has features" filter and a "Generate features" action on
images (added to the library's image admin through gallery/admin/extensions.py), and the
vectors, jobs and failures, read-only."""

from django.contrib import admin, messages
from django.db.models import Exists, OuterRef

from accounts import rules
from core.errors import ImageSimError
from features.extractors.loader import get_extractor
from features.jobs import embedded, services
from features.models import FeatureFailure, FeatureJob, FeatureVector
from gallery.admin import extensions


class HasFeaturesFilter(admin.SimpleListFilter):
    title = "has features"
    parameter_name = "has_features"

    def lookups(self, request, model_admin):
        return [("yes", "Yes"), ("no", "No")]

    def queryset(self, request, queryset):
        if self.value() not in ("yes", "no"):
            return queryset
        has = Exists(FeatureVector.objects.filter(image=OuterRef("pk"),
                                                  extractor=get_extractor().fingerprint))
        return queryset.filter(has if self.value() == "yes" else ~has)


@admin.action(description="Generate features for the selected images")
def generate_features(modeladmin, request, queryset):
    extractor = get_extractor()
    try:
        extractor.check_available()
    except ImageSimError as exc:
        modeladmin.message_user(request, exc.message, messages.ERROR)
        return
    job = services.images_enqueue(image_ids=list(queryset.values_list("pk", flat=True)),
                                  extractor=extractor.fingerprint)
    embedded.wake()
    if job is None or not job.is_active:
        modeladmin.message_user(request, "The selected images already have features.",
                                messages.INFO)
    else:
        modeladmin.message_user(request, f"Feature job {job.pk} queued: {job.total} images.",
                                messages.SUCCESS)


extensions.list_filter_add(HasFeaturesFilter)
extensions.action_add(extensions.Action(generate_features, allowed=rules.can_generate))


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(FeatureVector)
class FeatureVectorAdmin(ReadOnlyAdmin):
    list_display = ["image", "extractor", "dim", "created_at"]
    list_filter = ["extractor"]
    search_fields = ["image__name", "image__filename"]
    list_select_related = ["image"]
    exclude = ["vector"]


class FailureInline(admin.TabularInline):
    model = FeatureFailure
    fields = ["image", "filename", "reason"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(FeatureJob)
class FeatureJobAdmin(ReadOnlyAdmin):
    list_display = ["id", "state", "total", "done", "failed", "rate", "created_at",
                    "finished_at"]
    list_filter = ["state", "extractor"]
    inlines = [FailureInline]


@admin.register(FeatureFailure)
class FeatureFailureAdmin(ReadOnlyAdmin):
    list_display = ["filename", "reason", "job", "created_at"]
    list_filter = ["extractor"]
    search_fields = ["filename", "reason"]
