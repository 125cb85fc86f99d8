from django.urls import path

from assistant.llm import views

urlpatterns = [
    path("models/", views.models_page, name="models"),
    path("models/import/", views.model_import_path, name="model_import_path"),
    path("models/upload/", views.model_upload, name="model_upload"),
    path("models/scan/", views.models_scan, name="models_scan"),
    path("models/<int:model_id>/default/", views.model_set_default, name="model_set_default"),
    path("models/<int:model_id>/pair/", views.model_pair, name="model_pair"),
    path("models/<int:model_id>/rename/", views.model_rename, name="model_rename"),
    path("models/<int:model_id>/sampling/", views.model_sampling, name="model_sampling"),
    path("models/<int:model_id>/delete/", views.model_delete, name="model_delete"),
]
