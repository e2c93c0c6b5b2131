"""ResNet50 on OpenVINO's CPU runtime: the default way ImageSim runs the model.

On these CPUs it runs a batch about five times faster than TensorFlow (bfloat16 on AMX:
about 6 ms an image against 30 ms) and starts in a fraction of a second, since it needs
neither TensorFlow nor Keras once the model is converted. Converting does need them:
Keras builds ResNet50 from the weights file and OpenVINO converts that model. The
converted model is kept in FEATURE_MODEL_CACHE, so each machine converts once (about 10
seconds) and every later process, web or worker, loads it directly.
"""

import hashlib
import logging
import os
import queue
import tempfile
import warnings
from collections.abc import Callable
from pathlib import Path

import numpy as np

from core.limits import cores_of_quota

logger = logging.getLogger(__name__)

# Part of the converted file's name: change it when the conversion changes.
CONVERSION = "keras-resnet50-notop|v1"


def converted_path(*, cache_dir: Path, identity: str, size: int) -> Path:
    """Where the model converted from these weights for this input size is kept."""
    key = hashlib.sha256(f"{CONVERSION}|{identity}|{size}".encode()).hexdigest()[:16]
    return cache_dir / f"resnet50-{key}.xml"


def feature_maps_model(*, build_keras: Callable, cache_dir: Path, identity: str, size: int):
    """The OpenVINO model of ResNet50's last feature maps: from the cache, or converted
    from ``build_keras()`` (a Keras ResNet50 without top) and cached for next time."""
    import openvino as ov

    path = converted_path(cache_dir=cache_dir, identity=identity, size=size)
    core = ov.Core()
    if path.is_file() and path.with_suffix(".bin").is_file():
        return core.read_model(path)
    keras_model = build_keras()
    with warnings.catch_warnings():
        # OpenVINO traces the model with its inputs in a list; Keras notes that the
        # structure differs from the one it was built with, which changes nothing.
        warnings.filterwarnings("ignore", message="The structure of `inputs`")
        model = ov.convert_model(keras_model)
    try:
        _save(ov, model, path)
    except OSError as exc:
        # Still usable from memory; the next process converts again.
        logger.warning("Could not keep the converted ResNet50 in %s (%s)", cache_dir, exc)
    else:
        logger.info("Converted ResNet50 for OpenVINO into %s", path)
    return model


def _save(ov, model, path: Path) -> None:
    """Write the model so that another process never reads half a file: both files go to
    a scratch folder beside the cache, then the weights and last the description (whose
    presence means "ready") are renamed into place."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=path.parent, prefix=".converting-") as scratch:
        staged = Path(scratch) / path.name
        ov.save_model(model, staged, compress_to_fp16=False)
        os.replace(staged.with_suffix(".bin"), path.with_suffix(".bin"))
        os.replace(staged, path)


def compiled_runner(model, *, precision: str) -> Callable[[np.ndarray], np.ndarray]:
    """A function from a float32 batch (n, size, size, 3) to its float32 feature maps,
    computed in ``precision`` ("bfloat16" or "float32"); safe to call from any thread.

    Compiled for throughput: OpenVINO splits the cores into streams (two on two cores,
    each one thread) and keeps an infer request per stream. Concurrent searches then run
    side by side, one request each, instead of queueing for one request that spreads
    every image over all cores. That spread stalls whenever another thread takes a core
    (each layer waits for its slowest thread): on two cores with the server busy, one
    request managed 9 images a second and two streams 20. A batch is split over the
    requests free at the time, so the worker's batches keep every core too. A lone
    image uses one stream: about 33 ms on two idle cores, against 19 ms spread.
    """
    compiled = compiled_model(model, precision=precision)
    count = max(1, int(compiled.get_property("OPTIMAL_NUMBER_OF_INFER_REQUESTS")))
    free: queue.SimpleQueue = queue.SimpleQueue()
    for _ in range(count):
        free.put(compiled.create_infer_request())

    def run(batch: np.ndarray) -> np.ndarray:
        taken = [free.get()]  # waits only while every request is busy
        try:
            while len(taken) < min(count, len(batch)):
                taken.append(free.get_nowait())
        except queue.Empty:
            pass  # the others are busy with other callers: use what is free
        try:
            return _infer_split(taken, batch)
        finally:
            for request in taken:
                free.put(request)

    return run


def compiled_model(model, *, precision: str):
    """``model`` compiled for this machine's CPU, or its container's share of it: OpenVINO
    counts the cores the process may run on, not a CPU quota (Docker's ``--cpus``), and
    would start a stream per core of a 16-core host in a container given two, each
    thread then waiting out the quota's throttling. Under a quota it gets that many."""
    import openvino as ov

    config = {"INFERENCE_PRECISION_HINT": "bf16" if precision == "bfloat16" else "f32",
              "PERFORMANCE_HINT": "THROUGHPUT"}
    quota = cores_of_quota()
    if quota is not None:
        config["INFERENCE_NUM_THREADS"] = quota
    return ov.Core().compile_model(model, "CPU", config)


def _infer_split(requests: list, batch: np.ndarray) -> np.ndarray:
    """``batch`` split over ``requests``, run at once; their outputs, in order."""
    started = []
    try:
        for request, part in zip(requests, np.array_split(batch, len(requests))):
            request.start_async(part, share_inputs=False)
            started.append(request)
    finally:
        for request in started:  # never hand back a request still running
            request.wait()
    # Copies: the requests' own buffers are reused by their next callers.
    return np.concatenate([request.get_output_tensor(0).data.copy() for request in requests])
