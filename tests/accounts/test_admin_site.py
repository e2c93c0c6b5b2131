"""The admin site's user and key forms: an admin who is not a superuser cannot take a
superuser's account over, nor make keys that act as someone else."""

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import reverse

from accounts.models import ApiKey

pytestmark = pytest.mark.django_db


@pytest.fixture
def root(django_user_model):
    return django_user_model.objects.create_superuser("root", password="old-root-password")


@pytest.fixture
def admin_site(admin):
    client = Client()
    client.force_login(admin)
    return client


def test_an_admin_cannot_set_a_superusers_password(admin_site, root):
    url = reverse("admin:auth_user_password_change", args=[root.pk])

    page = admin_site.get(url)
    sent = admin_site.post(url, {"password1": "Taken-0ver-now!", "password2": "Taken-0ver-now!",
                                 "usable_password": "true"})

    assert (page.status_code, sent.status_code) == (403, 403)
    root.refresh_from_db()
    assert root.check_password("old-root-password")


def test_an_admin_cannot_change_a_superusers_fields(admin_site, root):
    url = reverse("admin:auth_user_change", args=[root.pk])

    sent = admin_site.post(url, {"username": "root", "email": "mine@example.org",
                                 "is_active": ""})

    assert sent.status_code == 403
    root.refresh_from_db()
    assert (root.email, root.is_active) == ("", True)


def test_an_admin_cannot_delete_a_superuser(admin_site, root):
    single = admin_site.post(reverse("admin:auth_user_delete", args=[root.pk]), {"post": "yes"})
    bulk = admin_site.post(reverse("admin:auth_user_changelist"), {
        "action": "delete_selected", "_selected_action": [root.pk], "post": "yes"})

    assert single.status_code == 403
    assert bulk.status_code in (302, 403)  # no such action for them, or refused
    assert get_user_model().objects.filter(pk=root.pk).exists()


def test_an_admin_cannot_give_a_superuser_a_role(admin_site, root):
    admin_site.post(reverse("admin:auth_user_changelist"), {
        "action": "make_viewer", "_selected_action": [root.pk]})

    root.refresh_from_db()
    assert list(root.groups.values_list("name", flat=True)) == []


def test_an_admin_still_changes_other_accounts(admin_site, make_user):
    viewer = make_user("viewer", username="vic")
    url = reverse("admin:auth_user_password_change", args=[viewer.pk])

    sent = admin_site.post(url, {"password1": "Fresh-Passw0rd!", "password2": "Fresh-Passw0rd!",
                                 "usable_password": "true"})

    assert sent.status_code == 302
    viewer.refresh_from_db()
    assert viewer.check_password("Fresh-Passw0rd!")


def test_a_superuser_changes_a_superusers_password(root, django_user_model):
    other = django_user_model.objects.create_superuser("root2", password="x")
    client = Client()
    client.force_login(other)

    sent = client.post(reverse("admin:auth_user_password_change", args=[root.pk]),
                       {"password1": "Fresh-Passw0rd!", "password2": "Fresh-Passw0rd!",
                        "usable_password": "true"})

    assert sent.status_code == 302
    root.refresh_from_db()
    assert root.check_password("Fresh-Passw0rd!")


KEY_ADD = reverse("admin:accounts_apikey_add")


def test_an_admins_new_key_in_the_admin_is_their_own(admin_site, admin, make_user):
    viewer = make_user("viewer", username="vic")

    form = admin_site.get(KEY_ADD)
    sent = admin_site.post(KEY_ADD, {"name": "mine", "user": viewer.pk}, follow=True)

    assert 'name="user"' not in form.text
    assert sent.status_code == 200
    key = ApiKey.objects.get()
    assert key.user == admin
    assert not ApiKey.objects.filter(user=viewer).exists()


def test_a_superuser_makes_a_key_for_someone_else(root, make_user):
    viewer = make_user("viewer", username="vic")
    client = Client()
    client.force_login(root)

    form = client.get(KEY_ADD)
    client.post(KEY_ADD, {"name": "for vic", "user": viewer.pk})

    assert 'name="user"' in form.text
    assert ApiKey.objects.get().user == viewer
