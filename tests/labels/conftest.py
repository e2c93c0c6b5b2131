import json

import numpy as np
import pytest

from labels.loader import head_forget
from labels.services import labels_forget
from search.index import reset_index
from tests.helpers import class_vector

# A tiny classifier for the fake extractor's 192-d vectors: each class answers to one
# direction (``class_vector``), so a test picks an image's labels by its vector. Real
# WordNet ids (synonyms apply) and one class outside WordNet.
CLASSES = [("n04133789", "sandal"), ("n04120489", "running_shoe"), ("n03595614", "jersey"),
           ("n02123045", "tabby"), ("x00000001", "Flux_Capacitor")]


@pytest.fixture(autouse=True)
def fresh_state():
    reset_index()
    labels_forget()
    head_forget()
    yield
    reset_index()
    labels_forget()
    head_forget()


@pytest.fixture
def tiny_head(settings, tmp_path):
    kernel = np.stack([class_vector(number) * 12 for number in range(len(CLASSES))], axis=1)
    np.savez(tmp_path / "head.npz", kernel=kernel.astype(np.float32),
             bias=np.zeros(len(CLASSES), np.float32))
    (tmp_path / "classes.json").write_text(json.dumps(
        {str(number): list(entry) for number, entry in enumerate(CLASSES)}))
    settings.LABEL_HEAD_WEIGHTS = str(tmp_path / "head.npz")
    settings.LABEL_CLASS_INDEX = str(tmp_path / "classes.json")
    settings.LABEL_TOP_K = 3
    head_forget()
