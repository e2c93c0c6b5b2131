"""The first run of an install others can reach: whoever opens the page first must not
become its administrator. When the server listens beyond loopback (HOST) or is served
through an HTTPS proxy (HTTPS=true) and no account exists, making the first administrator asks for a setup code that only the console shows.

The code is derived from SECRET_KEY, so every process of a deployment agrees on it and a
restart prints the same one; it is of no use once an account exists.
"""

import ipaddress
import logging

from django.conf import settings
from django.db import DatabaseError
from django.utils.crypto import constant_time_compare, salted_hmac

logger = logging.getLogger(__name__)


def listens_beyond_loopback() -> bool:
    host = settings.SERVER_HOST.strip().strip("[]").lower()
    if host == "localhost":
        return False
    try:
        return not ipaddress.ip_address(host).is_loopback
    except ValueError:  # a host name: reachable by whoever resolves it
        return True


def setup_code_required() -> bool:
    # HTTPS=true: served to others through a proxy, whatever address the server binds.
    return listens_beyond_loopback() or settings.HTTPS


def setup_code() -> str:
    digest = salted_hmac("imagesim.accounts.setup", "first administrator").hexdigest()[:12]
    return "-".join(digest[n:n + 4] for n in range(0, 12, 4))


def setup_code_matches(typed: str) -> bool:
    def plain(code: str) -> str:
        return "".join(code.split()).replace("-", "").lower()

    return constant_time_compare(plain(typed), plain(setup_code()))


def setup_code_announce() -> None:
    """At start-up, on the console: the code to type into "Create the first administrator"."""
    from accounts.services import first_run

    if not setup_code_required():
        return
    try:
        empty = first_run()
    except DatabaseError:  # not migrated yet: the page cannot be used either
        return
    if empty:
        logger.warning("ImageSim has no accounts yet and listens on %s: to create the first "
                       "administrator, open the page and type the setup code %s",
                       settings.SERVER_HOST, setup_code())
