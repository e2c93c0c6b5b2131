"""How daphne, the ASGI server, reads requests for ImageSim."""

import functools


def daphne_leave_forms_to_django() -> None:
    """Twisted, under daphne, would parse every multipart POST into memory before Django
    reads it again, and answer one it cannot parse (an empty form) with a bare 400 and no
    body. Daphne never reads that parse: turn it off, so Django's parser answers every
    request with its JSON error."""
    try:
        from daphne.http_protocol import WebRequest
    except ImportError:  # another ASGI server
        return
    if not isinstance(WebRequest.__dict__["__init__"], functools.partialmethod):
        WebRequest.__init__ = functools.partialmethod(WebRequest.__init__,
                                                      parsePOSTFormSubmission=False)
