from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import path

from assistant.views import accounts, chat, jobs, pages
from assistant.views import documents as documents_views
from assistant.views import models as models_views

urlpatterns = [
    path("", pages.home, name="home"),
    path("setup/", accounts.setup, name="setup"),
    path("login/", auth_views.LoginView.as_view(redirect_authenticated_user=True), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("password/", auth_views.PasswordChangeView.as_view(), name="password_change"),
    path("password/done/", auth_views.PasswordChangeDoneView.as_view(), name="password_change_done"),
    path("household/", accounts.household, name="household"),
    path("household/<int:member_id>/toggle/", accounts.member_toggle, name="member_toggle"),
    path("settings/", accounts.settings_page, name="settings"),
    path("settings/selfcheck/", jobs.selfcheck_start, name="selfcheck_start"),
    path("jobs/", jobs.jobs_page, name="jobs"),
    path("jobs/<int:job_id>/cancel/", jobs.job_cancel_view, name="job_cancel"),
    path("jobs/<int:job_id>/retry/", jobs.job_retry_view, name="job_retry"),
    path("api/jobs/", jobs.jobs_api, name="jobs_api"),
    path("api/jobs/<int:job_id>/", jobs.job_api, name="job_api"),
    path("chat/", chat.chat_index, name="chat"),
    path("chat/new/", chat.conversation_new, name="conversation_new"),
    path("chat/search/", chat.chat_search, name="chat_search"),
    path("chat/personas/", chat.personas_page, name="personas"),
    path("chat/personas/<int:persona_id>/delete/", chat.persona_delete, name="persona_delete"),
    path("chat/images/", chat.image_upload, name="image_upload"),
    path("chat/images/<int:image_id>/", chat.image_view, name="image_view"),
    path("chat/<int:conversation_id>/", chat.conversation_page, name="conversation"),
    path("chat/<int:conversation_id>/rename/", chat.conversation_rename_view, name="conversation_rename"),
    path("chat/<int:conversation_id>/delete/", chat.conversation_delete_view, name="conversation_delete"),
    path("chat/<int:conversation_id>/settings/", chat.conversation_settings, name="conversation_settings"),
    path("api/messages/<int:message_id>/", chat.message_api, name="message_api"),
    path("documents/", documents_views.documents_page, name="documents"),
    path("documents/upload/", documents_views.documents_upload, name="documents_upload"),
    path("documents/search/", documents_views.documents_search_view, name="documents_search"),
    path("documents/<int:document_id>/", documents_views.document_page, name="document"),
    path("documents/<int:document_id>/download/", documents_views.document_download, name="document_download"),
    path("documents/<int:document_id>/cancel/", documents_views.document_cancel_view, name="document_cancel"),
    path("documents/<int:document_id>/reindex/", documents_views.document_reindex_view, name="document_reindex"),
    path("documents/<int:document_id>/delete/", documents_views.document_delete_view, name="document_delete"),
    path("photos/", pages.coming_soon, {"page": "photos"}, name="photos"),
    path("voice/", pages.coming_soon, {"page": "voice"}, name="voice"),
    path("models/", models_views.models_page, name="models"),
    path("models/import/", models_views.model_import_path, name="model_import_path"),
    path("models/upload/", models_views.model_upload, name="model_upload"),
    path("models/scan/", models_views.models_scan, name="models_scan"),
    path("models/<int:model_id>/default/", models_views.model_set_default, name="model_set_default"),
    path("models/<int:model_id>/pair/", models_views.model_pair, name="model_pair"),
    path("models/<int:model_id>/delete/", models_views.model_delete, name="model_delete"),
    path("admin/", admin.site.urls),
]

handler403 = "assistant.views.pages.error_403"
handler404 = "assistant.views.pages.error_404"
