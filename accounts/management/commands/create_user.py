"""manage.py create_user NAME --role viewer|editor|admin: an account with one role."""

import getpass
import sys

from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from accounts.roles import ROLES
from accounts.services import user_create


class Command(BaseCommand):
    help = ("Make an account with a role. The password is asked for (typed twice); an empty "
            "one, or --no-password, makes an account that signs in only with API keys.")

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--role", choices=ROLES, required=True)
        parser.add_argument("--no-password", action="store_true",
                            help="A key-only account (make its key with create_api_key).")

    def handle(self, *args, username, role, no_password, **options):
        if get_user_model().objects.filter(username=username).exists():
            raise CommandError(f"A user named {username!r} already exists.")
        password = None if no_password else self._password(username)
        user = user_create(username=username, role=role, password=password)
        how = "with a password" if password else "for API keys only (no password)"
        self.stdout.write(f"Made {role} {user.username!r}, {how}.")

    def _password(self, username: str) -> str | None:
        if not sys.stdin.isatty():
            # A script pipes the password in: one line, never an argument (it would show
            # in the process list and the shell's history).
            password = sys.stdin.readline().rstrip("\n")
        else:
            password = getpass.getpass("Password (empty: API keys only): ")
            if password and password != getpass.getpass("Password again: "):
                raise CommandError("The two passwords differ.")
        if not password:
            return None
        try:
            validate_password(password, get_user_model()(username=username))
        except ValidationError as exc:
            raise CommandError(" ".join(exc.messages)) from None
        return password
