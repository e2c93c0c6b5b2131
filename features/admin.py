"""Features in the admin: a "has features" filter and a "Generate features" action on
images, and the vectors, jobs and failures, read-only."""

from django.contrib import admin, messages
from django.db.models import Exists, OuterRef

from accounts import rules
from core.errors import ImageSimError
from features.extractors.loader import get_extractor
from features.jobs import embedded, services
from features.models import FeatureFailure, FeatureJob, FeatureVector
from gallery.admin import ImageAdmin
from gallery.models import Image


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


admin.site.unregister(Image)


@admin.register(Image)
class ImageFeaturesAdmin(ImageAdmin):
    list_filter = [*ImageAdmin.list_filter, HasFeaturesFilter]
    actions = [*ImageAdmin.actions, "generate_features"]

    @admin.action(description="Generate features for the selected images",
                  permissions=["generate"])
    def generate_features(self, request, queryset):
        extractor = get_extractor()
        try:
            extractor.check_available()
        except ImageSimError as exc:
            self.message_user(request, exc.message, messages.ERROR)
            return
        job = services.images_enqueue(image_ids=list(queryset.values_list("pk", flat=True)),
                                      extractor=extractor.fingerprint)
        embedded.wake()
        if job is None or not job.is_active:
            self.message_user(request, "The selected images already have features.",
                              messages.INFO)
        else:
            self.message_user(request, f"Feature job {job.pk} queued: {job.total} images.",
                              messages.SUCCESS)


    def has_generate_permission(self, request) -> bool:
        return rules.can_generate(request.user)


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
