"""The sign-in form."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.forms import AuthenticationForm
from django.core.exceptions import ValidationError

from accounts.demo import demo_credentials


class SignInForm(AuthenticationForm):
    """Django's sign-in form, which says why a demo user is refused (its password is public anyway)."""

    def get_invalid_login_error(self) -> ValidationError:
        if not settings.DEBUG and demo_credentials(
            self.cleaned_data.get("username"), self.cleaned_data.get("password")
        ):
            return ValidationError(
                "Demo users cannot sign in on this server (DEBUG is off): their passwords are public. "
                "Sign in with your own user; the first administrator is made with "
                "“python manage.py createsuperuser”.",
                code="demo_user",
            )
        return super().get_invalid_login_error()
