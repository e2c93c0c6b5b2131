import json

import numpy as np
import pytest

from labels.loader import head_forget
from search.index import reset_index
from tests.helpers import LABEL_CLASSES, class_vector

@pytest.fixture(autouse=True)
def fresh_state():
    reset_index()
    head_forget()
    yield
    reset_index()
    head_forget()


@pytest.fixture
def tiny_head(settings, tmp_path):
    kernel = np.stack([class_vector(number) * 12 for number in range(len(LABEL_CLASSES))], axis=1)
    np.savez(tmp_path / "head.npz", kernel=kernel.astype(np.float32),
             bias=np.zeros(len(LABEL_CLASSES), np.float32))
    (tmp_path / "classes.json").write_text(json.dumps(
        {str(number): list(entry) for number, entry in enumerate(LABEL_CLASSES)}))
    settings.LABEL_HEAD_WEIGHTS = str(tmp_path / "head.npz")
    settings.LABEL_CLASS_INDEX = str(tmp_path / "classes.json")
    settings.LABEL_TOP_K = 3
    head_forget()
