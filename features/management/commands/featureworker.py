"""A feature extraction worker process: run any number, on any machines sharing the
database and the media storage (set FEATURE_EMBEDDED_WORKER=false on the web servers)."""

import signal
import threading

from django.core.management.base import BaseCommand

from features.extractors.warm_up import start_model_warm_up
from features.jobs.worker import Worker


class Command(BaseCommand):
    help = "Extract feature vectors for queued images until stopped (Ctrl+C or SIGTERM)."

    def add_arguments(self, parser):
        parser.add_argument("--batch-size", type=int, default=None)
        parser.add_argument("--once", action="store_true",
                            help="Stop when no work is left instead of waiting for more.")
        parser.add_argument("--poll", type=float, default=None,
                            help="Seconds between looks for new work (FEATURE_POLL_SECONDS).")

    def handle(self, *args, batch_size, once, poll, **options):
        stop = threading.Event()
        worker = Worker(batch_size=batch_size, stop=stop)
        for signum in (signal.SIGINT, signal.SIGTERM):
            # Finish the batch in hand, give the prefetched one back, then exit.
            signal.signal(signum, lambda *_: (stop.set(), worker.wake.set()))
        self.stdout.write(f"Feature worker {worker.name} ({worker.extractor.fingerprint})")
        if once:
            worker.recover()
            processed = worker.run_until_idle()
            self.stdout.write(f"Processed {processed} images.")
            return
        start_model_warm_up(batched=True)  # the first batch finds the model ready
        worker.run_forever(poll=poll)
