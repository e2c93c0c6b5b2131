"""Signals the library sends, so later stages (feature extraction) can react
without the library knowing about them."""

from django.dispatch import Signal

# Sent after the transaction that added images commits; ``images`` is a list of Image.
images_added = Signal()
