"""manage.py create_api_key NAME [--name LABEL]: a key for a user, printed once."""

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from accounts.keys import api_key_create


class Command(BaseCommand):
    help = ("Make an API key for user NAME and print it alone on the last line; it is stored "
            "only as a hash and cannot be shown again.")

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--name", default="command line", help="What the key is for.")

    def handle(self, *args, username, name, **options):
        user = get_user_model().objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"No user named {username!r} (make one with create_user).")
        if not user.is_active:
            raise CommandError(f"{username!r} is disabled: its keys would be refused.")
        name = name.strip()
        if not name or len(name) > 50:
            raise CommandError("--name must be 1 to 50 characters.")
        api_key, key = api_key_create(user=user, name=name)
        self.stderr.write(f"API key {api_key.prefix} ({name}) for {username}; send it as "
                          "'Authorization: Bearer <key>'. It is not shown again:")
        self.stdout.write(key)
