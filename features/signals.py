"""Signals the feature stage sends, so later stages (search) can keep what they derive
from the vectors in step without features knowing about them."""

from django.dispatch import Signal

# Sent by a feature worker, in its own thread, after each batch of vectors it saved
# (``idle`` False) and whenever it has no extraction left to do (``idle`` True), with
# ``extractor``, the fingerprint it serves. Receivers do their background work there,
# off the request path; an exception in one is logged and the worker goes on.
worker_step = Signal()
