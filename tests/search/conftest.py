import pytest
from django.db import connection


@pytest.fixture(autouse=True)
def postgres_only(request):
    """Tests marked postgres need PostgreSQL: bin/test runs them through tests/with_stack.py."""
    if request.node.get_closest_marker("postgres") and connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL with pgvector: python tests/with_stack.py -m postgres tests")

