import numpy as np
import pytest
from django.db import connection

from features.extractors.loader import get_extractor
from features.models import FeatureVector
from gallery.services import image_create
from search.index import reset_index
from tests.conftest import make_image_bytes


@pytest.fixture(autouse=True)
def postgres_only(request):
    """Tests marked postgres need PostgreSQL: bin/test runs them through tests/with_postgres.py."""
    if request.node.get_closest_marker("postgres") and connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL with pgvector (run: python tests/with_postgres.py -m postgres)")


@pytest.fixture(autouse=True)
def fresh_index():
    """Each test starts with no index loaded: ids are reused once a test's rows roll back."""
    reset_index()
    yield
    reset_index()


def fingerprint() -> str:
    return get_extractor().fingerprint


def add_image(color, *, original=False, name=None, vector=None, with_vector=True):
    """A library image with (by default) its fake-extractor vector stored."""
    data = make_image_bytes("PNG", color=color)
    name = name or "image-{}-{}-{}.png".format(*color)
    image = image_create(name=name, data=data, is_original=original).image
    if with_vector:
        vector = get_extractor().extract([data])[0] if vector is None else np.asarray(vector)
        add_vector(image, vector)
    return image


def add_vector(image, vector, *, extractor=None):
    vector = np.asarray(vector, dtype=np.float32)
    return FeatureVector.objects.create(image=image, extractor=extractor or fingerprint(),
                                        dim=vector.size, vector=vector)


def unit(seed: int, dim: int = 192) -> np.ndarray:
    vector = np.random.default_rng(seed).standard_normal(dim).astype(np.float32)
    return vector / np.linalg.norm(vector)
