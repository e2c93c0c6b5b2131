"""A user's permissions in one query.

Every API request asks the access rules, and the rules ask the user's permissions.
Django's ModelBackend reads them with two queries (the user's own, and their roles');
this backend, listed before it, reads both at once and leaves them where ModelBackend
looks for them (``_perm_cache``), so each answers the same. It only answers permission
questions: it signs no one in, and has no ``get_user``, so sessions stay ModelBackend's
(Django names the first backend that has one in a session).
"""

from django.contrib.auth.models import Permission


class PermissionsInOneQuery:
    def authenticate(self, request, **credentials):
        return None

    def get_all_permissions(self, user_obj, obj=None) -> set[str]:
        if not user_obj.is_active or user_obj.is_anonymous or obj is not None:
            return set()
        if not hasattr(user_obj, "_perm_cache"):
            fields = ("content_type__app_label", "codename")
            if user_obj.is_superuser:
                rows = Permission.objects.values_list(*fields)
            else:
                own = Permission.objects.filter(user=user_obj).order_by().values_list(*fields)
                roles = Permission.objects.filter(group__user=user_obj).order_by() \
                    .values_list(*fields)
                rows = own.union(roles)
            user_obj._perm_cache = {f"{app}.{codename}" for app, codename in rows}
        return user_obj._perm_cache

    def has_perm(self, user_obj, perm: str, obj=None) -> bool:
        return user_obj.is_active and perm in self.get_all_permissions(user_obj, obj)
