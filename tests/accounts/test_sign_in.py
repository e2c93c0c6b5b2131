"""Signing in and out, the first administrator, and the lock-out after failed sign-ins."""

import threading

import pytest
from django.contrib.auth.models import User
from django.db import connection
from django.test import Client
from django.urls import reverse

from accounts.roles import role_of
from accounts.services import first_admin_create, user_create
from core.errors import Conflict

pytestmark = pytest.mark.django_db
SIGN_IN = reverse("sign-in")
FIRST_ADMIN = reverse("first-admin")
STRONG = "a-long-and-rare-passphrase"


def test_a_new_install_sends_sign_in_to_the_first_administrator_form():
    response = Client().get(SIGN_IN)

    assert response.status_code == 302
    assert response["Location"] == FIRST_ADMIN


def test_the_first_administrator_is_made_and_signed_in():
    client = Client()

    response = client.post(FIRST_ADMIN, {"username": "ada", "password1": STRONG,
                                         "password2": STRONG})

    assert response.status_code == 302
    assert response["Location"] == "/"
    ada = User.objects.get()
    assert (ada.username, ada.is_superuser, ada.is_staff, role_of(ada)) == ("ada", True, True,
                                                                         "admin")
    assert client.get("/").status_code == 200


def test_the_first_administrator_form_checks_the_password():
    response = Client().post(FIRST_ADMIN, {"username": "ada", "password1": "ada",
                                           "password2": "ada"})

    assert response.status_code == 200
    assert "This password is too short" in response.content.decode()
    assert not User.objects.exists()


def test_the_first_administrator_form_is_gone_once_an_account_exists():
    user_create(username="ada", role="admin", password=STRONG)
    client = Client()

    shown = client.get(FIRST_ADMIN)
    posted = client.post(FIRST_ADMIN, {"username": "mallory", "password1": STRONG,
                                       "password2": STRONG})

    assert shown.status_code == posted.status_code == 302
    assert posted["Location"] == SIGN_IN
    assert list(User.objects.values_list("username", flat=True)) == ["ada"]


@pytest.mark.both_databases
@pytest.mark.django_db(transaction=True)
def test_two_first_administrators_at_once_make_one():
    # Both requests passed the "no account yet" check before either wrote.
    barrier, outcomes = threading.Barrier(2), []

    def make(name):
        barrier.wait()
        try:
            first_admin_create(username=name, password=STRONG)
            outcomes.append("made")
        except Conflict:
            outcomes.append("refused")
        finally:
            connection.close()

    threads = [threading.Thread(target=make, args=(name,)) for name in ("ada", "bob")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(outcomes) == ["made", "refused"]
    assert User.objects.count() == 1


def test_sign_in_and_out():
    user_create(username="ada", role="viewer", password=STRONG)
    client = Client()

    signed_in = client.post(SIGN_IN, {"username": "ada", "password": STRONG})
    page = client.get("/")
    signed_out = client.post(reverse("sign-out"))

    assert signed_in.status_code == 302 and signed_in["Location"] == "/"
    assert page.status_code == 200
    assert signed_out.status_code == 302 and signed_out["Location"] == SIGN_IN
    assert client.get("/").status_code == 302


def test_a_wrong_password_says_so():
    user_create(username="ada", role="viewer", password=STRONG)

    response = Client().post(SIGN_IN, {"username": "ada", "password": "nope"})

    assert response.status_code == 200
    assert "The user name or password is wrong." in response.content.decode()


def test_repeated_failures_lock_the_account_even_for_the_right_password(settings):
    user_create(username="ada", role="viewer", password=STRONG)
    client = Client()
    for _ in range(settings.AXES_FAILURE_LIMIT):
        client.post(SIGN_IN, {"username": "ada", "password": "guess"})

    locked = client.post(SIGN_IN, {"username": "ada", "password": STRONG})
    other_account = Client().post(SIGN_IN, {"username": "bob", "password": "x"})

    assert locked.status_code == 429
    assert locked["Retry-After"] == str(15 * 60)
    assert "Too many failed sign-ins for this account from here. It is locked here for 15 " \
        "minutes" in locked.content.decode()
    assert "_auth_user_id" not in client.session
    assert other_account.status_code == 200  # a lock is per account


def test_failures_from_elsewhere_do_not_lock_the_account_out_here(settings):
    user_create(username="ada", role="admin", password=STRONG)
    attacker = Client(REMOTE_ADDR="198.51.100.66")
    for _ in range(settings.AXES_FAILURE_LIMIT + 2):
        attacker.post(SIGN_IN, {"username": "ada", "password": "guess"})

    attacker_locked = attacker.post(SIGN_IN, {"username": "ada", "password": STRONG})
    owner = Client(REMOTE_ADDR="192.0.2.10")
    signed_in = owner.post(SIGN_IN, {"username": "ada", "password": STRONG})

    assert attacker_locked.status_code == 429
    assert signed_in.status_code == 302 and "_auth_user_id" in owner.session


def test_sign_in_keeps_where_the_visitor_was_going():
    user_create(username="ada", role="viewer", password=STRONG)

    response = Client().post(SIGN_IN + "?next=/%23search",
                             {"username": "ada", "password": STRONG, "next": "/#search"})

    assert response["Location"] == "/#search"


def test_on_loopback_the_first_administrator_needs_no_setup_code(settings):
    settings.SERVER_HOST = "127.0.0.1"

    form = Client().get(FIRST_ADMIN)

    assert 'name="setup_code"' not in form.content.decode()


@pytest.mark.parametrize("host", ["0.0.0.0", "192.0.2.10", "images.example.org", "::"])
def test_beyond_loopback_the_first_administrator_needs_the_setup_code(settings, host):
    settings.SERVER_HOST = host
    client = Client()
    account = {"username": "ada", "password1": STRONG, "password2": STRONG}

    form = client.get(FIRST_ADMIN)
    without = client.post(FIRST_ADMIN, account)
    wrong = client.post(FIRST_ADMIN, {**account, "setup_code": "0000-0000-0000"})

    assert 'name="setup_code"' in form.content.decode()
    assert without.status_code == wrong.status_code == 200
    assert "That is not the setup code. Copy it from the server&#x27;s console" in \
        wrong.content.decode()
    assert not User.objects.exists()


def test_behind_an_https_proxy_the_first_administrator_needs_the_setup_code(settings):
    settings.SERVER_HOST, settings.HTTPS = "127.0.0.1", True

    form = Client().get(FIRST_ADMIN, secure=True)

    assert 'name="setup_code"' in form.content.decode()


def test_the_setup_code_from_the_console_makes_the_first_administrator(settings, caplog):
    from accounts.setup import setup_code_announce

    settings.SERVER_HOST = "0.0.0.0"
    setup_code_announce()
    code = caplog.text.rsplit("type the setup code ", 1)[1].split()[0]

    response = Client().post(FIRST_ADMIN, {"username": "ada", "password1": STRONG,
                                           "password2": STRONG, "setup_code": f" {code.upper()} "})

    assert response.status_code == 302
    assert User.objects.get().is_superuser


def test_no_setup_code_is_printed_once_an_account_exists_or_on_loopback(settings, caplog):
    from accounts.setup import setup_code_announce

    settings.SERVER_HOST = "127.0.0.1"
    setup_code_announce()
    settings.SERVER_HOST = "0.0.0.0"
    user_create(username="ada", role="admin", password=STRONG)
    setup_code_announce()

    assert "setup code" not in caplog.text
