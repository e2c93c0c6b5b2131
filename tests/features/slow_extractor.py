"""A fake extractor that takes its time and logs each batch, for the subprocess tests.

FEATURE_FAKE_DELAY: seconds per batch; FEATURE_FAKE_LOG: a file that gets one line
(the batch size) per batch run through the model; FEATURE_FAKE_GATE: while this file
exists, batches wait before running (a test holds the workers mid-job).
"""

import os
import time

from features.extractors.fake import FakeExtractor


class SlowFakeExtractor(FakeExtractor):
    def infer(self, batch):
        gate = os.environ.get("FEATURE_FAKE_GATE")
        while gate and os.path.exists(gate):
            time.sleep(0.05)
        time.sleep(float(os.environ.get("FEATURE_FAKE_DELAY", "0")))
        log = os.environ.get("FEATURE_FAKE_LOG")
        if log:
            with open(log, "a") as handle:
                handle.write(f"{len(batch)}\n")
        return super().infer(batch)
