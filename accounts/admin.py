from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied
from rest_framework_api_key.admin import APIKeyModelAdmin
from rest_framework_api_key.models import APIKey

from accounts import rules
from accounts.models import ApiKey
from accounts.roles import ROLES, role_of, role_set

# ImageSim's keys belong to users (ApiKey); the library's own user-less model stays unused.
admin.site.unregister(APIKey)


@admin.register(ApiKey)
class ApiKeyAdmin(APIKeyModelAdmin):
    list_display = ["prefix", "name", "user", "created", "last_used_at", "expiry_date"]
    list_filter = ["created", "user"]
    search_fields = ["name", "prefix", "user__username"]
    autocomplete_fields = ["user"]
    fields = ["name", "user", "prefix", "expiry_date", "last_used_at"]

    def get_readonly_fields(self, request, obj=None):
        return ["prefix", "last_used_at", *(["user"] if obj else [])]

    def get_fields(self, request, obj=None):
        # Anyone but a superuser makes keys for themselves only.
        if obj is None and not rules.can_make_keys_for_others(request.user):
            return [field for field in self.fields if field != "user"]
        return self.fields

    def save_model(self, request, obj, form, change):
        if not change:
            if obj.user_id is None:
                obj.user = request.user
            if not rules.can_make_key_for(request.user, obj.user):
                raise PermissionDenied
        super().save_model(request, obj, form, change)


def _role_action(role: str):
    @admin.action(description=f"Make the selected users {role}s", permissions=["change"])
    def give_role(modeladmin, request, queryset):
        users = [user for user in queryset
                 if not user.is_superuser and rules.can_change_user(request.user, user)]
        for user in users:
            role_set(user, role)
        modeladmin.message_user(request, f"{len(users)} user(s) are now {role}s.",
                                messages.SUCCESS)

    give_role.__name__ = f"make_{role}"
    return give_role


class ImageSimUserAdmin(UserAdmin):
    """Roles are given with the actions (they set the group and staff status together).
    Only a superuser may make superusers or grant single permissions."""

    list_display = ["username", "role", "is_active", "last_login", "date_joined"]
    list_filter = ["is_active", "is_superuser", "groups"]
    actions = [_role_action(role) for role in ROLES]

    @admin.display(description="Role")
    def role(self, user):
        return role_of(user) or "none"

    def has_change_permission(self, request, obj=None):
        # Also the password form, which asks this of the account it changes.
        return (super().has_change_permission(request, obj)
                and rules.can_change_user(request.user, obj))

    def has_delete_permission(self, request, obj=None):
        return (super().has_delete_permission(request, obj)
                and rules.can_change_user(request.user, obj))

    def delete_queryset(self, request, queryset):
        # The bulk delete's confirmation already refuses a superuser among them; this holds
        # even if that page is skipped.
        if not all(rules.can_change_user(request.user, user) for user in queryset):
            raise PermissionDenied
        super().delete_queryset(request, queryset)

    def get_readonly_fields(self, request, obj=None):
        fields = list(super().get_readonly_fields(request, obj))
        if not request.user.is_superuser:
            fields += ["is_superuser", "is_staff", "user_permissions", "groups"]
        return fields


admin.site.unregister(User)
admin.site.register(User, ImageSimUserAdmin)
