from django.contrib.auth import views as auth_views
from django.urls import path

from assistant.accounts import views

urlpatterns = [
    path("setup/", views.setup, name="setup"),
    path("login/", auth_views.LoginView.as_view(redirect_authenticated_user=True), name="login"),
    path("logout/", views.SignOut.as_view(), name="logout"),
    path("password/", views.PasswordChange.as_view(), name="password_change"),
    path("password/done/", auth_views.PasswordChangeDoneView.as_view(), name="password_change_done"),
    path("household/", views.household, name="household"),
    path("household/<int:member_id>/toggle/", views.member_toggle, name="member_toggle"),
    path("household/<int:member_id>/password/", views.member_password, name="member_password"),
    path("settings/", views.settings_page, name="settings"),
    path("settings/name/", views.display_name_update, name="display_name_update"),
]
