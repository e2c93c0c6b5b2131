"""Who may do what: every access decision of ImageSim, in one module.

Each rule takes the user (anonymous included) and answers yes or no. Roles grant
Django permissions (accounts/roles.py, migration 0002); superusers hold them all.
The API (accounts.permissions), file serving and the page (accounts.decorators) and
the progress websocket ask these functions and nothing else.
"""

from django.conf import settings

# The permissions the rules ask for, named once: the roles (accounts/roles.py) grant them.
VIEW = "gallery.view_image"
UPLOAD = "gallery.add_image"
DELETE_OWN = "gallery.delete_image"
DELETE_ANY = "gallery.delete_any_image"
GENERATE = "features.add_featurejob"
MANAGE_KEYS = "accounts.add_apikey"
UNDO_DUPLICATE_DECISION = "duplicates.delete_duplicatedismissal"


def _has(user, permission: str) -> bool:
    return bool(user and user.is_authenticated and user.is_active and user.has_perm(permission))


def can_view(user) -> bool:
    """Browse the library, open its files, search, watch progress."""
    if user is None or not user.is_authenticated:
        return settings.ANONYMOUS_ACCESS == "read"
    return _has(user, VIEW)


def can_upload(user) -> bool:
    return _has(user, UPLOAD)


def can_generate(user) -> bool:
    return _has(user, GENERATE)


def can_manage_keys(user, *, with_key: bool = False) -> bool:
    """Make, list and revoke one's own API keys, from a signed-in session only: a key that
    could make keys would leave working keys behind when it is revoked."""
    return not with_key and _has(user, MANAGE_KEYS)


def can_delete_uploads(user) -> bool:
    """Delete at least one's own uploads and use one's trash (each image is then checked
    with can_delete)."""
    return _has(user, DELETE_OWN) or _has(user, DELETE_ANY)


def can_delete_any(user) -> bool:
    """Delete, restore and purge anyone's uploads, and see the whole trash (admins)."""
    return _has(user, DELETE_ANY)


def can_delete(user, image) -> bool:
    """Delete this upload, or restore it from the trash or purge it there: an admin any,
    an editor their own. Originals are refused by the library itself, whoever asks."""
    return delete_check(user)(image)


def delete_check(user):
    """``can_delete`` for one user and many images (a page of the library): the user's
    permissions are asked once, not twice per image."""
    if _has(user, DELETE_ANY):
        return lambda image: True
    own = _has(user, DELETE_OWN)
    return lambda image: own and image.uploaded_by_id == user.pk


def can_review_duplicates(user) -> bool:
    """Say a group of look-alike images is not duplicates (editors and admins; each group
    is then checked with can_dismiss_duplicates), and see who said so of which groups."""
    return _has(user, UPLOAD)


def can_dismiss_duplicates(user, images) -> bool:
    """Say these images are not duplicates. That hides the group for everyone, so an editor
    decides only for a group made entirely of their own uploads; an admin for any."""
    if _has(user, DELETE_ANY):
        return True
    return can_review_duplicates(user) and all(
        not image.is_original and image.uploaded_by_id == user.pk for image in images)


def can_undo_duplicate_decisions(user) -> bool:
    """Take back a "not duplicates" decision, anyone's (admins: API and admin site)."""
    return _has(user, UNDO_DUPLICATE_DECISION)


def can_change_originals(user) -> bool:
    """Only a superuser decides which images are protected originals (in the admin)."""
    return bool(user and user.is_active and user.is_superuser)


def can_change_user(user, account) -> bool:
    """Change or delete an account in the admin (any field, its password, its role). A
    superuser's account is changed only by a superuser: an admin could otherwise set its
    password and sign in as it."""
    if account is not None and account.is_superuser:
        return bool(user and user.is_active and user.is_superuser)
    return True


def can_make_keys_for_others(user) -> bool:
    """Make an API key acting as another account (admin site): a superuser only. The new
    key is shown to whoever makes it, and it acts as its owner."""
    return bool(user and user.is_active and user.is_superuser)


def can_make_key_for(user, owner) -> bool:
    if owner.pk == user.pk:
        return can_manage_keys(user)
    return can_make_keys_for_others(user)
