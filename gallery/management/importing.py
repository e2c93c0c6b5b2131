"""What import_folder and import_original_app share on the command line: the progress
bar with bad files reported beside it, and stopping with a summary and a resume hint."""

import sys
from collections.abc import Callable
from contextlib import contextmanager
from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.management.base import CommandError
from django.db import DatabaseError
from tqdm import tqdm

from gallery.imports import FileResult, Outcome
from gallery.storage import StorageUnavailable

RESUME_HINT = "Run the same command again to go on where it stopped."


def owner_argument(parser) -> None:
    parser.add_argument("--owner", metavar="USERNAME",
                        help="The account the new images belong to: it may delete them as "
                             "its uploads (editors). Without it they belong to no one, and "
                             "only admins may delete them.")


def owner_get(username: str | None):
    """The user named by --owner (None without it); a CommandError if there is none."""
    if username is None:
        return None
    try:
        return get_user_model().objects.get(username=username)
    except get_user_model().DoesNotExist:
        raise CommandError(f"No user named {username!r}: make one with 'manage.py create_user "
                           f"{username} --role editor', or name another.") from None


def bar_wanted(verbosity: int) -> bool:
    return verbosity > 0 and sys.stderr.isatty()


class Progress:
    """A bar on stderr when it is a terminal (and verbosity > 0); problems are written
    above the bar, or plainly to the command's stderr without one."""

    def __init__(self, command, *, total: int | None, verbosity: int, root: Path):
        self.command, self.root = command, root
        self.shown = bar_wanted(verbosity)
        self.bar = tqdm(total=total, unit="image", desc="Importing", disable=not self.shown,
                        file=sys.stderr)

    def problem(self, message: str) -> None:
        if self.shown:
            self.bar.write(message, file=sys.stderr)
        else:
            self.command.stderr.write(message)

    def result(self, result: FileResult) -> None:
        if result.outcome is Outcome.IGNORED:
            return
        self.bar.update(1)
        if result.outcome is Outcome.BAD:
            self.problem(f"Bad file {self.name(result.path)}: {result.reason}")

    def name(self, path: Path) -> str:
        try:
            return str(path.relative_to(self.root))
        except ValueError:
            return str(path)

    def close(self) -> None:
        self.bar.close()


@contextmanager
def import_progress(command, *, total: int | None, verbosity: int, root: Path,
                    summary: Callable[[], None]):
    """Yield a Progress; when the import stops early, write the summary of what was done
    and leave with a CommandError that says how to resume (exit status 1, 130 for Ctrl+C)."""
    progress = Progress(command, total=total, verbosity=verbosity, root=root)
    try:
        yield progress
    except StorageUnavailable as exc:
        progress.close()
        summary()
        raise CommandError(f"{exc.message} The import stopped. {RESUME_HINT}") from None
    except DatabaseError as exc:
        progress.close()
        summary()
        raise CommandError(f"The database refused a write ({exc}). The import stopped. "
                           f"{RESUME_HINT}") from None
    except KeyboardInterrupt:
        progress.close()
        summary()
        raise CommandError(f"Interrupted. {RESUME_HINT}", returncode=130) from None
    finally:
        progress.close()
