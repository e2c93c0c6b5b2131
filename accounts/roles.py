"""The three roles, as Django groups with permissions.

viewer: browse, view files, search. editor: also upload, generate features, delete
their own uploads, make API keys. admin: also delete anyone's uploads and use the
admin site (staff). accounts/rules.py decides what each permission allows.

Migration accounts/0002 makes the groups; after every migrate (and every flush)
``roles_sync`` brings them back in line with this table.
"""

from django.contrib.auth.models import Group

from accounts import rules

VIEWER, EDITOR, ADMIN = "viewer", "editor", "admin"
ROLES = (VIEWER, EDITOR, ADMIN)

# The permissions the access rules ask for are named in rules.py; the others here are
# what the admin site and the API keys' own views need.
_VIEWER = [rules.VIEW, "features.view_featurejob"]
_EDITOR = _VIEWER + [
    rules.UPLOAD, rules.DELETE_OWN, rules.GENERATE,
    rules.MANAGE_KEYS, "accounts.view_apikey", "accounts.delete_apikey",
]
# Admins are also staff: the admin site shows them what these permissions allow.
_ADMIN = _EDITOR + [
    "gallery.change_image", rules.DELETE_ANY,
    "features.view_featurevector", "features.view_featurefailure", "features.change_featurejob",
    "accounts.change_apikey",
    "duplicates.view_duplicatedismissal", "duplicates.delete_duplicatedismissal",
    "auth.view_user", "auth.add_user", "auth.change_user", "auth.view_group",
]
ROLE_PERMISSIONS = {VIEWER: _VIEWER, EDITOR: _EDITOR, ADMIN: _ADMIN}


def roles_sync(group_model=Group, permission_model=None, *, using: str = "default") -> None:
    """Make the role groups of database ``using`` hold exactly their permissions (the
    models may be a migration's historical ones)."""
    permission_model = permission_model or group_model.permissions.field.related_model
    for role, names in ROLE_PERMISSIONS.items():
        group, _ = group_model.objects.using(using).get_or_create(name=role)
        wanted = []
        for name in names:
            app_label, codename = name.split(".")
            wanted += permission_model.objects.using(using).filter(
                content_type__app_label=app_label, codename=codename)
        group.permissions.set(wanted)


def role_of(user) -> str | None:
    """The highest role the user holds (a superuser counts as admin), or None."""
    if not user.is_authenticated:
        return None
    if user.is_superuser:
        return ADMIN
    held = set(user.groups.values_list("name", flat=True))
    return next((role for role in reversed(ROLES) if role in held), None)


def role_set(user, role: str) -> None:
    """Give the user exactly this role; admins are staff (the admin site), others not."""
    if role not in ROLES:
        raise ValueError(f"Unknown role {role!r}: one of {', '.join(ROLES)}.")
    user.groups.remove(*Group.objects.filter(name__in=ROLES))
    user.groups.add(Group.objects.get(name=role))
    if not user.is_superuser:
        user.is_staff = role == ADMIN
        user.save(update_fields=["is_staff"])
