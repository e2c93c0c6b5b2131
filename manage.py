#!/usr/bin/env python
import os
import sys


def main():
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "imagesim.settings")
    from django.core.exceptions import ImproperlyConfigured
    from django.core.management import execute_from_command_line

    try:
        execute_from_command_line(sys.argv)
    except ImproperlyConfigured as exc:
        # A setting someone has to fix: its one-line message says how, a traceback would
        # only bury it.
        sys.exit(f"ImageSim is not configured: {exc}")


if __name__ == "__main__":
    main()
