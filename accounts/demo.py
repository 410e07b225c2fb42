"""Demo users: one per role, with passwords published in the README, for DEBUG=1 only."""

from __future__ import annotations

from functools import lru_cache

from django.contrib.auth.hashers import check_password
from django.contrib.auth.models import AbstractBaseUser

from accounts.roles import ADMINISTRATOR, AGENT, SUPERVISOR, VIEWER

DEMO_USERS = [
    # username, role, first name, last name; the password is demo_password(username).
    ("agent", AGENT, "Alex", "Agent"),
    ("supervisor", SUPERVISOR, "Sam", "Supervisor"),
    ("admin", ADMINISTRATOR, "Ada", "Admin"),
    ("viewer", VIEWER, "Vic", "Viewer"),
]
DEMO_USERNAMES = frozenset(username for username, *_ in DEMO_USERS)


def demo_password(username: str) -> str:
    """The published password of a demo user."""
    return f"{username}-demo"


def demo_credentials(username: str | None, password: str | None) -> bool:
    """Whether a username and password are one of the published demo pairs."""
    return username in DEMO_USERNAMES and password == demo_password(username or "")


def user_is_demo(user: AbstractBaseUser) -> bool:
    """Whether the user still has a demo user's published password (whoever created it, and when).

    A demo user whose password was changed is an ordinary user from then on.
    """
    username = user.get_username()
    if username not in DEMO_USERNAMES or not user.has_usable_password():
        return False
    return _hash_is_demo(username, user.password)


# Hashing is slow on purpose (a few hundred ms in production); a signed-in demo user's every request
# asks again, so remember the answer per stored hash: a new password is a new hash and a new answer.
@lru_cache(maxsize=64)
def _hash_is_demo(username: str, encoded: str) -> bool:
    return check_password(demo_password(username), encoded)
