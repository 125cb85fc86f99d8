from django.urls import path

from assistant.llm import browse_views, views
from assistant.voice import speech_views

urlpatterns = [
    path("models/", views.models_page, name="models"),
    path("models/import/", views.model_import_path, name="model_import_path"),
    path("models/upload/", views.model_upload, name="model_upload"),
    path("models/browse/", browse_views.models_browse, name="models_browse"),
    path("models/import-selected/", browse_views.models_import_selected, name="models_import_selected"),
    path("models/speech/default/", speech_views.speech_model_default, name="speech_model_default"),
    path("models/speech/<int:model_id>/delete/", speech_views.speech_model_remove, name="speech_model_delete"),
    path("models/scan/", views.models_scan, name="models_scan"),
    path("models/<int:model_id>/default/", views.model_set_default, name="model_set_default"),
    path("models/<int:model_id>/pair/", views.model_pair, name="model_pair"),
    path("models/<int:model_id>/rename/", views.model_rename, name="model_rename"),
    path("models/<int:model_id>/sampling/", views.model_sampling, name="model_sampling"),
    path("models/<int:model_id>/delete/", views.model_delete, name="model_delete"),
]
