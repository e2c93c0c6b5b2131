"""Writes: accounts and the first administrator."""

from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction

from accounts.models import FirstAdministrator
from accounts.roles import ADMIN, role_set
from core.errors import Conflict


def user_create(*, username: str, role: str, password: str | None):
    """A user with one role; without a password the account signs in by API key only."""
    with transaction.atomic():
        user = get_user_model().objects.create_user(username=username, password=password)
        if password is None:
            user.set_unusable_password()
            user.save(update_fields=["password"])
        role_set(user, role)
    return user


def first_admin_create(*, username: str, password: str):
    """The first account, a superuser, made from the sign-in page of an empty install.

    Refused once any account exists. The FirstAdministrator row (one at most) makes it
    race-safe: of two submissions at once, the second fails its insert and rolls back.
    """
    User = get_user_model()
    try:
        with transaction.atomic():
            if User.objects.exists():
                raise Conflict(ALREADY_SET_UP, code="already_set_up")
            user = User.objects.create_superuser(username=username, password=password)
            role_set(user, ADMIN)
            FirstAdministrator.objects.create(id=1, user=user)
    except IntegrityError:
        raise Conflict(ALREADY_SET_UP, code="already_set_up") from None
    return user


def first_run() -> bool:
    """No account exists yet: the sign-in page offers to make the first administrator."""
    return not get_user_model().objects.exists()


ALREADY_SET_UP = "ImageSim already has an administrator: sign in instead."
