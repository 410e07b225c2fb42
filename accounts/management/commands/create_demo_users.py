"""Create one demo user per role with a known password (DEBUG only) and print the credentials."""

from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from accounts.demo import DEMO_USERS, demo_password
from accounts.services import user_set_role


class Command(BaseCommand):
    help = "Create demo users, one per role, with known passwords. Refused unless DEBUG is on."

    def handle(self, *args: Any, **options: Any) -> None:
        if not settings.DEBUG:
            raise CommandError("Demo users have well-known passwords; they are only created when DEBUG=1.")
        User = get_user_model()
        rows = []
        for username, role, first, last in DEMO_USERS:
            user, _ = User.objects.get_or_create(
                username=username,
                defaults={"first_name": first, "last_name": last, "email": f"{username}@demo.example"},
            )
            password = demo_password(username)
            user.set_password(password)
            user.is_active = True
            user.save()
            user_set_role(user=user, role=role)
            rows.append((role, username, password))
        self.stdout.write("Demo users (sign in at http://127.0.0.1:8000/accounts/login/):")
        for role, username, password in rows:
            self.stdout.write(f"  {role:<14} username {username:<11} password {password}")
