"""The original app's generate-features loop, as a child process of bench/extract.py.

It runs under TensorFlow's own defaults, as the original app did (ImageSim's extractor
changes process-wide TensorFlow options, so the two cannot share a process). It loads
the model, says "ready", then for each line of JSON file paths on stdin extracts them
one at a time with ``model.predict``, saves the vectors as the original app did
(``np.save`` of the feature matrix), and answers with the seconds it took.

    python bench/naive_loop.py WEIGHTS OUT_DIR
"""

import json
import sys
import time
from pathlib import Path

import numpy as np


def main(weights: str, out_dir: str) -> None:
    import keras
    from keras.applications.resnet50 import preprocess_input
    from keras.utils import img_to_array, load_img

    model = keras.applications.ResNet50(weights=weights, include_top=False, pooling="avg")
    model.predict(np.zeros((1, 224, 224, 3), np.float32), verbose=0)
    print("ready", flush=True)
    for n, line in enumerate(sys.stdin):
        start = time.perf_counter()
        vectors = []
        for path in json.loads(line):
            picture = load_img(path, target_size=(224, 224))
            x = preprocess_input(np.expand_dims(img_to_array(picture), axis=0))
            vector = model.predict(x, verbose=0).flatten()
            vectors.append(vector / np.linalg.norm(vector))
        np.save(Path(out_dir) / f"features_{n}.npy", np.stack(vectors))
        print(json.dumps({"seconds": time.perf_counter() - start, "count": len(vectors)}),
              flush=True)


if __name__ == "__main__":
    main(*sys.argv[1:3])
