"""Each domain keeps its own routes (assistant/<domain>/urls.py); URL names are global."""

from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("", include("assistant.core.urls")),
    path("", include("assistant.accounts.urls")),
    path("", include("assistant.jobs.urls")),
    path("", include("assistant.chat.urls")),
    path("", include("assistant.documents.urls")),
    path("", include("assistant.llm.urls")),
    path("admin/", admin.site.urls),
]

handler403 = "assistant.core.views.error_403"
handler404 = "assistant.core.views.error_404"
