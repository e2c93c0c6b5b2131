"""The original app's generate-features loop, as a whole process for bench/extract.py.

It runs under TensorFlow's own defaults, as the original app did: it loads the model,
extracts every image of a folder one at a time with ``model.predict``, and saves the
vectors as the original app did (``np.save`` of the feature matrix and the file names).

    python bench/naive_loop.py WEIGHTS OUT_DIR PHOTOS_DIR
"""

import sys
from pathlib import Path

import numpy as np


def main(weights: str, out_dir: str, photos_dir: str) -> None:
    import keras
    from keras.applications.resnet50 import preprocess_input
    from keras.utils import img_to_array, load_img

    model = keras.applications.ResNet50(weights=weights, include_top=False, pooling="avg")
    vectors, names = [], []
    for path in sorted(Path(photos_dir).iterdir()):
        picture = load_img(path, target_size=(224, 224))
        x = preprocess_input(np.expand_dims(img_to_array(picture), axis=0))
        vector = model.predict(x, verbose=0).flatten()
        vectors.append(vector / np.linalg.norm(vector))
        names.append(path.name)
    np.save(Path(out_dir) / "features.npy", np.stack(vectors))
    np.save(Path(out_dir) / "filenames.npy", np.array(names))


if __name__ == "__main__":
    main(*sys.argv[1:4])
