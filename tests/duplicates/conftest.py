import pytest
from django.db import connection

from duplicates.hash_finding import hashes_forget
from duplicates.selectors import duplicates_forget
from search.index import reset_index


@pytest.fixture(autouse=True)
def postgres_only(request):
    if request.node.get_closest_marker("postgres") and connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL with pgvector: python tests/with_stack.py -m postgres tests")


@pytest.fixture(autouse=True)
def fresh_state(settings):
    """No index or formed groups from another test (ids are reused after a rollback), and
    the floor and threshold these tests are written for."""
    settings.DUPLICATE_FLOOR, settings.DUPLICATE_THRESHOLD = 0.80, 0.90
    # Pictures are matched, and hashed pairs made, only where a test asks: most of these
    # images are one colour with the same stripe, so their vectors alone say what each
    # test means.
    settings.DUPLICATE_MATCH = 2.0
    settings.DUPLICATE_HASH_DISTANCE = -1
    hashes_forget()
    reset_index()
    duplicates_forget()
    yield
    hashes_forget()
    reset_index()
    duplicates_forget()
