"""A user's permissions are read in one query, with the same answer as Django's own."""

import pytest
from django.contrib.auth import BACKEND_SESSION_KEY
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.models import Permission
from django.test import Client

from accounts.backends import PermissionsInOneQuery

pytestmark = pytest.mark.django_db


def fresh(user):
    """The user as a new request loads it: no permissions read yet."""
    return type(user).objects.get(pk=user.pk)


def permissions(backend, user) -> set[str]:
    return backend.get_all_permissions(fresh(user))


@pytest.mark.parametrize("role", ["viewer", "editor", "admin"])
def test_each_role_has_the_permissions_django_would_give(make_user, role):
    user = make_user(role)

    found = permissions(PermissionsInOneQuery(), user)

    assert found == permissions(ModelBackend(), user)
    assert "gallery.view_image" in found


def test_a_permission_given_to_the_user_counts_with_their_roles(make_user):
    user = make_user("viewer")
    user.user_permissions.add(Permission.objects.get(codename="add_image"))

    found = permissions(PermissionsInOneQuery(), user)

    assert {"gallery.add_image", "gallery.view_image"} <= found
    assert found == permissions(ModelBackend(), user)


def test_a_user_without_a_role_has_none(django_user_model):
    assert permissions(PermissionsInOneQuery(), django_user_model.objects.create_user("x")) == set()


def test_a_deactivated_user_has_none(make_user):
    user = make_user("admin")
    user.is_active = False
    user.save()

    assert permissions(PermissionsInOneQuery(), user) == set()


def test_a_superuser_has_every_permission(django_user_model):
    root = django_user_model.objects.create_superuser("root", password=None)

    assert len(permissions(PermissionsInOneQuery(), root)) == Permission.objects.count()


def test_they_are_read_in_one_query(make_user, django_assert_num_queries):
    user = fresh(make_user("editor"))

    with django_assert_num_queries(1):
        assert user.has_perm("gallery.add_image")
        assert not user.has_perm("gallery.delete_any_image")


def test_sessions_stay_with_djangos_backend(make_user):
    client = Client()
    client.force_login(make_user("viewer"))

    assert client.session[BACKEND_SESSION_KEY] == "django.contrib.auth.backends.ModelBackend"
    assert client.get("/api/v1/images/").status_code == 200
