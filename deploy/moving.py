"""Moving a library (rows and files) to another database and another file store.

Steps that return values, so the command stays thin and each is testable:
``target_check`` and ``media_target_check`` look before anything is written;
``rows_copy`` copies every table in dependency order keeping primary keys (a rerun
skips what is already there); ``media_copy`` copies every file the rows name (a
rerun skips files already stored).
"""

from collections.abc import Callable
from dataclasses import dataclass, field

import dj_database_url
from django.contrib.auth.models import Group, User
from django.core.files.base import ContentFile
from django.core.management import call_command
from django.core.management.color import no_style
from django.db import DatabaseError, connections, transaction
from django.utils.module_loading import import_string

from accounts.models import ApiKey, FirstAdministrator
from features.models import FeatureFailure, FeatureJob, FeatureTask, FeatureVector
from gallery.models import DemoRemoval, Image
from gallery.storage import StorageUnavailable, file_read

TARGET = "move_target"
CHUNK = 500
# Parents before children, so every foreign key finds its row.
MODELS = [User, ApiKey, FirstAdministrator, Image, DemoRemoval, FeatureJob, FeatureVector,
          FeatureTask, FeatureFailure]


class MoveRefused(Exception):
    """The target cannot take this library; nothing was written."""


@dataclass(frozen=True)
class Copied:
    name: str
    copied: int
    total: int
    missing: list[str] = field(default_factory=list)


def target_connect(url: str) -> str:
    """Register the target database under its own alias; return the alias."""
    config = dj_database_url.parse(url)
    configured = connections.configure_settings({"default": connections.settings["default"],
                                                 TARGET: config})
    connections.settings[TARGET] = configured[TARGET]
    return TARGET


def target_disconnect(alias: str = TARGET) -> None:
    if alias in connections.settings:
        connections[alias].close()
        del connections[alias]
        del connections.settings[alias]


def target_check(alias: str = TARGET) -> None:
    """A reachable PostgreSQL with pgvector, empty or holding this library's earlier copy."""
    connection = connections[alias]
    try:
        connection.ensure_connection()
    except DatabaseError as exc:
        raise MoveRefused(f"The target database cannot be reached ({exc}).") from None
    if connection.vendor != "postgresql":
        raise MoveRefused("The target must be PostgreSQL (with the pgvector extension).")
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_available_extensions WHERE name = 'vector'")
        if cursor.fetchone() is None:
            raise MoveRefused("The target PostgreSQL has no pgvector extension: install it "
                              "(https://github.com/pgvector/pgvector), then run this again.")
    if Image._meta.db_table not in connection.introspection.table_names():
        return
    theirs = set(Image.objects.using(alias).values_list("pk", "sha256"))
    ours = set(Image.objects.values_list("pk", "sha256"))
    if not theirs <= ours:
        raise MoveRefused(f"The target database holds another library ({len(theirs - ours)} "
                          "images that are not in this one): use an empty database.")


def rows_copy(alias: str = TARGET, *, progress: Callable[[Copied], None] = lambda c: None
              ) -> list[Copied]:
    """Migrate the target, then copy every table; rows already there are kept."""
    call_command("migrate", database=alias, interactive=False, verbosity=0)
    results = []
    for model in MODELS:
        results.append(_table_copy(model, alias))
        progress(results[-1])
    results.append(_user_roles_copy(alias))
    progress(results[-1])
    with connections[alias].cursor() as cursor:
        for statement in connections[alias].ops.sequence_reset_sql(no_style(), MODELS):
            cursor.execute(statement)
    return results


def _table_copy(model, alias: str) -> Copied:
    before = model.objects.using(alias).count()
    total = model.objects.count()
    rows = model.objects.order_by("pk").iterator(chunk_size=CHUNK)
    batch = []
    for row in rows:
        batch.append(row)
        if len(batch) == CHUNK:
            _insert(model, batch, alias)
            batch = []
    _insert(model, batch, alias)
    return Copied(model._meta.label, model.objects.using(alias).count() - before, total)


def _insert(model, rows: list, alias: str) -> None:
    if rows:
        with transaction.atomic(using=alias):
            model.objects.using(alias).bulk_create(rows, ignore_conflicts=True)


def _user_roles_copy(alias: str) -> Copied:
    """Group memberships, matched by group name (the target made its own groups)."""
    groups = dict(Group.objects.using(alias).values_list("name", "pk"))
    Membership = User.groups.through
    rows = [Membership(user_id=user_id, group_id=groups[name])
            for user_id, name in Membership.objects.values_list("user_id", "group__name")
            if name in groups]
    before = Membership.objects.using(alias).count()
    _insert(Membership, rows, alias)
    return Copied("roles", Membership.objects.using(alias).count() - before, len(rows))


def media_target(backend: dict):
    """A storage object from a STORAGES entry (``{"BACKEND": ..., "OPTIONS": ...}``)."""
    return import_string(backend["BACKEND"])(**backend.get("OPTIONS", {}))


def media_target_check(storage) -> None:
    """The target store takes a file and gives it up again."""
    probe = "imagesim-move-probe.txt"
    try:
        name = storage.save(probe, ContentFile(b"ImageSim checks it can write here."))
        storage.delete(name)
    except Exception as exc:  # each backend fails in its own way
        raise MoveRefused(f"The target file store cannot be written to ({exc}).") from None


def media_copy(storage, *, progress: Callable[[int], None] = lambda n: None) -> Copied:
    """Copy every image and thumbnail the library names; those already there are skipped,
    and those missing from this library's own store are listed in ``missing``."""
    names = [name for pair in Image.objects.values_list("file", "thumbnail") for name in pair]
    copied, missing = 0, []
    for number, name in enumerate(names, 1):
        if not storage.exists(name):
            try:
                data = file_read(name)
            except FileNotFoundError:
                missing.append(name)
                continue
            except StorageUnavailable as exc:
                raise MoveRefused(exc.message) from None
            stored = storage.save(name, ContentFile(data))
            if stored != name:
                raise MoveRefused(f"The target store renamed {name} to {stored}.")
            copied += 1
        progress(number)
    return Copied("files", copied, len(names), missing)
