"""manage.py create_user and create_api_key."""

import io

import pytest
from django.contrib.auth.models import User
from django.core.management import CommandError, call_command

from accounts.models import ApiKey
from accounts.roles import role_of

pytestmark = pytest.mark.django_db
STRONG = "a-long-and-rare-passphrase"


def run(*args, stdin: str = "") -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("sys.stdin", io.StringIO(stdin))
        call_command(*args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


@pytest.mark.parametrize("role,staff", [("viewer", False), ("editor", False), ("admin", True)])
def test_it_makes_a_user_with_a_role_and_a_piped_password(role, staff):
    out, _ = run("create_user", "ada", "--role", role, stdin=STRONG + "\n")

    ada = User.objects.get(username="ada")
    assert out == f"Made {role} 'ada', with a password.\n"
    assert (role_of(ada), ada.is_staff, ada.check_password(STRONG)) == (role, staff, True)


def test_it_asks_for_the_password_twice_at_a_terminal(monkeypatch):
    answers = iter([STRONG, STRONG])
    monkeypatch.setattr("getpass.getpass", lambda prompt: next(answers))
    terminal = io.StringIO()
    terminal.isatty = lambda: True
    monkeypatch.setattr("sys.stdin", terminal)

    call_command("create_user", "ada", "--role", "editor", stdout=io.StringIO())

    assert User.objects.get(username="ada").check_password(STRONG)


def test_an_empty_password_makes_a_key_only_account():
    out, _ = run("create_user", "robot", "--role", "viewer", stdin="\n")

    assert out == "Made viewer 'robot', for API keys only (no password).\n"
    assert not User.objects.get(username="robot").has_usable_password()


def test_it_refuses_a_weak_password_and_makes_no_one():
    with pytest.raises(CommandError, match="This password is too short"):
        run("create_user", "ada", "--role", "viewer", stdin="abc\n")
    assert not User.objects.exists()


def test_it_refuses_a_taken_name():
    run("create_user", "ada", "--role", "viewer", "--no-password")

    with pytest.raises(CommandError, match="A user named 'ada' already exists."):
        run("create_user", "ada", "--role", "admin", "--no-password")


def test_it_prints_a_new_key_alone_on_the_last_line(api_client):
    run("create_user", "robot", "--role", "viewer", "--no-password")

    out, err = run("create_api_key", "robot", "--name", "nightly search")

    key = out.strip().splitlines()[-1]
    stored = ApiKey.objects.get()
    assert (stored.name, stored.user.username) == ("nightly search", "robot")
    assert key.startswith(stored.prefix + ".")
    assert "It is not shown again" in err
    api_client.logout()
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    assert api_client.get("/api/v1/images/").status_code == 200


def test_a_key_for_no_such_user_is_refused():
    with pytest.raises(CommandError, match="No user named 'ghost'"):
        run("create_api_key", "ghost")
    assert not ApiKey.objects.exists()


def test_createsuperuser_still_works():
    call_command("createsuperuser", "--noinput", "--username", "root", "--email", "r@x.org",
                 stdout=io.StringIO())

    assert User.objects.get(username="root").is_superuser
