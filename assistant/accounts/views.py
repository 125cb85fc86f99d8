"""Setup, household management and the Settings page."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth import get_user_model, login
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_not_required
from django.contrib.auth.forms import PasswordChangeForm, SetPasswordForm, UserCreationForm
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from assistant.accounts.forms import GuardedPasswordChangeForm
from assistant.accounts.services import (
    SetupAlreadyDone,
    member_create,
    member_password_reset,
    member_rename,
    member_set_active,
    owner_create,
)
from assistant.accounts.sessions import sessions_revoke
from assistant.core.http import owner_required

owner_only = owner_required()


class AccountForm(UserCreationForm):  # type: ignore[type-arg]
    class Meta(UserCreationForm.Meta):
        model = get_user_model()
        fields = ("username",)


@login_not_required
def setup(request: HttpRequest) -> HttpResponse:
    if get_user_model().objects.exists():
        return redirect("login")
    form = AccountForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            owner = owner_create(username=form.cleaned_data["username"], password=form.cleaned_data["password1"])
        except SetupAlreadyDone:
            return redirect("login")
        login(request, owner, backend="django.contrib.auth.backends.ModelBackend")
        messages.success(request, "Welcome to Hearth. Add the other members of your household below.")
        return redirect("household")
    return render(request, "accounts/setup.html", {"form": form})


@owner_only
def household(request: HttpRequest) -> HttpResponse:
    form = AccountForm(request.POST or None)
    # The member list comes first on a phone; and a password manager must not offer the owner's name.
    form.fields["username"].widget.attrs.pop("autofocus", None)
    form.fields["username"].widget.attrs["autocomplete"] = "off"
    if request.method == "POST" and form.is_valid():
        member = member_create(username=form.cleaned_data["username"], password=form.cleaned_data["password1"])
        messages.success(request, f"{member.username} can now log in.")
        return redirect("household")
    members = get_user_model().objects.order_by("-is_superuser", "username")
    return render(request, "accounts/household.html", {"form": form, "members": members})


@owner_only
@require_POST
def member_toggle(request: HttpRequest, member_id: int) -> HttpResponse:
    member = get_object_or_404(get_user_model(), pk=member_id)
    try:
        member_set_active(member=member, active=not member.is_active)
    except PermissionError as exc:
        messages.error(request, str(exc))
    else:
        state = "enabled" if member.is_active else "disabled"
        messages.success(request, f"{member.username} is {state}.")
    return redirect("household")


@owner_only
def member_password(request: HttpRequest, member_id: int) -> HttpResponse:
    member = get_object_or_404(get_user_model(), pk=member_id, is_superuser=False)
    form = SetPasswordForm(member, request.POST or None)
    if request.method == "POST" and form.is_valid():
        member_password_reset(member=member, password=form.cleaned_data["new_password1"])
        messages.success(
            request,
            f"{member.username}'s password was reset. Tell them the new one; they can change it under Settings.",
        )
        return redirect("household")
    return render(request, "accounts/member_password.html", {"form": form, "member": member})


def settings_page(request: HttpRequest) -> HttpResponse:
    return render(request, "accounts/settings.html")


class PasswordChange(auth_views.PasswordChangeView):
    """Wrong old passwords count like failed logins; a change closes the member's open sockets."""

    form_class = GuardedPasswordChangeForm

    def get_form_kwargs(self) -> dict[str, Any]:
        return {**super().get_form_kwargs(), "request": self.request}

    def form_valid(self, form: PasswordChangeForm) -> HttpResponse:
        # This tab's socket is left to close as its page moves on to "password changed" (closing it
        # first would send the page to the login page instead); its old session no longer acts.
        this_tab = self.request.session.session_key
        response = super().form_valid(form)
        if self.request.user.pk is not None:
            sessions_revoke(user_id=self.request.user.pk, keep_session_key=this_tab)
        return response


class SignOut(auth_views.LogoutView):
    """Logging out also closes the sockets of this session (other tabs of the same browser)."""

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        user_id, session_key = request.user.pk, request.session.session_key
        response = super().post(request, *args, **kwargs)
        if user_id is not None and session_key:
            sessions_revoke(user_id=user_id, session_key=session_key)
        return response


@require_POST
def display_name_update(request: HttpRequest) -> HttpResponse:
    member = member_rename(member=request.user, display_name=request.POST.get("display_name", ""))  # type: ignore[arg-type]
    messages.success(request, f"Hearth now calls you {member.first_name or member.username}.")
    return redirect("settings")
