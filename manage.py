#!/usr/bin/env python
"""Django's command-line utility for administrative tasks."""

import os
import secrets
import sys

# Commands that only read the models and migrations: they sign nothing and serve nothing, so on a
# fresh checkout (no SECRET_KEY, DEBUG off) they run with a throwaway key instead of refusing.
# Every other command still needs SECRET_KEY when DEBUG is off.
KEYLESS_COMMANDS = {"makemigrations", "showmigrations", "sqlmigrate"}


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "partnerportal.settings")
    if len(sys.argv) > 1 and sys.argv[1] in KEYLESS_COMMANDS and not os.environ.get("SECRET_KEY_FILE"):
        os.environ.setdefault("SECRET_KEY", secrets.token_urlsafe(50))
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
