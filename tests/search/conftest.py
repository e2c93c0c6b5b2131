import pytest
from django.db import connection

from search.augmentation import augmentation_forget
from search.index import reset_index


@pytest.fixture(autouse=True)
def postgres_only(request):
    """Tests marked postgres need PostgreSQL: bin/test runs them through tests/with_stack.py."""
    if request.node.get_closest_marker("postgres") and connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL with pgvector: python tests/with_stack.py -m postgres tests")


@pytest.fixture(autouse=True)
def fresh_index():
    """Each test starts with no index loaded: ids are reused once a test's rows roll back."""
    reset_index()
    augmentation_forget()
    yield
    reset_index()
    augmentation_forget()
