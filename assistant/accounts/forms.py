"""Account forms whose password checks count towards the login lock-out."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import authenticate
from django.contrib.auth.forms import PasswordChangeForm
from django.core.exceptions import ValidationError
from django.http import HttpRequest


class GuardedPasswordChangeForm(PasswordChangeForm):
    """The old password is checked through authenticate(), so django-axes counts each wrong guess
    like a failed login (per account and address) and, once locked, refuses even the right one."""

    def __init__(self, user: Any, *args: Any, request: HttpRequest, **kwargs: Any) -> None:
        super().__init__(user, *args, **kwargs)
        self.request = request

    def clean_old_password(self) -> str:
        old_password = str(self.cleaned_data["old_password"])
        checked = authenticate(self.request, username=self.user.get_username(), password=old_password)
        if checked is None or checked.pk != self.user.pk:
            raise ValidationError(self.error_messages["password_incorrect"], code="password_incorrect")
        return old_password
