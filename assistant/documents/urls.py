from django.urls import path

from assistant.documents import views

urlpatterns = [
    path("documents/", views.documents_page, name="documents"),
    path("documents/upload/", views.documents_upload, name="documents_upload"),
    path("documents/search/", views.documents_search_view, name="documents_search"),
    path("documents/<int:document_id>/", views.document_page, name="document"),
    path("documents/<int:document_id>/view/", views.document_view, name="document_view"),
    path("documents/<int:document_id>/file/", views.document_file_view, name="document_file"),
    path("documents/<int:document_id>/download/", views.document_download, name="document_download"),
    path("documents/<int:document_id>/cancel/", views.document_cancel_view, name="document_cancel"),
    path("documents/<int:document_id>/reindex/", views.document_reindex_view, name="document_reindex"),
    path("documents/<int:document_id>/delete/", views.document_delete_view, name="document_delete"),
]
