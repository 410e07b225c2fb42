"""Authentication: Django's model backend, refusing the demo users unless DEBUG is on."""

from __future__ import annotations

import logging
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.auth.models import AnonymousUser, User
from django.http import HttpRequest

from accounts.demo import demo_credentials, user_is_demo

logger = logging.getLogger(__name__)


class PortalBackend(ModelBackend):
    """Users and passwords from the database; demo users (published passwords) only when DEBUG is on.

    Django asks `user_can_authenticate` at sign-in and again on every request of a session
    (`get_user`), so a demo user signed in before a restart with DEBUG=0 is signed out too.
    """

    def authenticate(
        self,
        request: HttpRequest | None,
        username: str | None = None,
        password: str | None = None,
        **kwargs: Any,
    ) -> User | None:
        if username is None:
            username = kwargs.get(get_user_model().USERNAME_FIELD)
        if not settings.DEBUG and demo_credentials(username, password):
            # The pair is public, so refusing it early gives nothing away and skips a slow hash.
            logger.warning("Sign-in refused: %r is a demo user and DEBUG is off.", username)
            return None
        return super().authenticate(request, username=username, password=password, **kwargs)

    def user_can_authenticate(self, user: User | AnonymousUser | None) -> bool:
        if not super().user_can_authenticate(user):
            return False
        return settings.DEBUG or not isinstance(user, AbstractBaseUser) or not user_is_demo(user)
