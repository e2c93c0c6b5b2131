"""Signals the library sends, so later stages (feature extraction) can react
without the library knowing about them."""

from django.dispatch import Signal

# Sent after the transaction that added images commits; ``images`` is a list of Image.
images_added = Signal()
# Sent after the transaction that deleted images (or moved them to the trash) commits; ``image_ids`` is a list of ids.
images_deleted = Signal()
# Sent inside the transaction that moves images to the trash, so what later stages derived
# from them (vectors, queued extraction) goes in that same transaction; ``image_ids``.
images_trashing = Signal()
