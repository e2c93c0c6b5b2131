"""SQLite connections kept for the next request (core/sqlite): reused only when safe."""

import sqlite3

import pytest
from django.db.utils import ConnectionHandler


def database(path):
    """A connection of ImageSim's SQLite backend to ``path``, as a new request gets one."""
    handler = ConnectionHandler({"default": {"ENGINE": "core.sqlite", "NAME": str(path)}})
    return handler["default"]


def rows(wrapper, sql):
    with wrapper.cursor() as cursor:
        cursor.execute(sql)
        return cursor.fetchall()


@pytest.fixture(autouse=True)
def own_database_files(django_db_blocker):
    """These tests open files of their own, never the test database."""
    with django_db_blocker.unblock():
        yield


@pytest.fixture
def path(tmp_path):
    path = tmp_path / "library.sqlite3"
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE photo (name TEXT)")
        db.execute("INSERT INTO photo VALUES ('first')")
    return path


def test_the_next_request_reuses_a_closed_connection_and_sees_the_latest_rows(path):
    first = database(path)
    first.ensure_connection()
    kept = first.connection
    first.close()
    with sqlite3.connect(path) as db:  # another process writes meanwhile
        db.execute("INSERT INTO photo VALUES ('second')")

    second = database(path)

    assert rows(second, "SELECT name FROM photo ORDER BY name") == [("first",), ("second",)]
    assert second.connection is kept


def test_a_connection_closed_inside_a_transaction_is_not_kept(path):
    first = database(path)
    first.ensure_connection()
    first.connection.execute("BEGIN IMMEDIATE")
    first.connection.execute("INSERT INTO photo VALUES ('never committed')")
    left = first.connection
    first.close()

    second = database(path)

    assert rows(second, "SELECT name FROM photo") == [("first",)]
    assert second.connection is not left
    with pytest.raises(sqlite3.ProgrammingError):  # closed, so its write is gone
        left.execute("SELECT 1")


def test_a_database_made_again_at_the_same_path_is_never_read_through_an_old_connection(path):
    first = database(path)
    first.ensure_connection()
    first.close()
    path.unlink()
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE photo (name TEXT)")
        db.execute("INSERT INTO photo VALUES ('from the new file')")

    assert rows(database(path), "SELECT name FROM photo") == [("from the new file",)]


def test_a_reused_connection_checks_foreign_keys_again(path):
    first = database(path)
    first.ensure_connection()
    first.connection.execute("PRAGMA foreign_keys = OFF")  # as a migration may leave it
    first.close()

    assert rows(database(path), "PRAGMA foreign_keys") == [(1,)]
