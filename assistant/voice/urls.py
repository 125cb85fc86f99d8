from django.urls import path

from assistant.voice import views

urlpatterns = [
    path("voice/", views.voice_page, name="voice"),
    path("voice/upload/", views.voice_upload_view, name="voice_upload"),
    path("voice/dictate/", views.voice_dictate_view, name="voice_dictate"),
    path("voice/dictate/<int:job_id>/", views.voice_dictation_view, name="voice_dictation"),
    path("voice/<int:note_id>/", views.voice_note_page, name="voice_note"),
    path("voice/<int:note_id>/audio/", views.voice_audio, name="voice_audio"),
    path("voice/<int:note_id>/rename/", views.voice_rename_view, name="voice_rename"),
    path("voice/<int:note_id>/segments/<int:number>/", views.voice_segment_view, name="voice_segment"),
    path("voice/<int:note_id>/cancel/", views.voice_cancel_view, name="voice_cancel"),
    path("voice/<int:note_id>/retry/", views.voice_retry_view, name="voice_retry"),
    path("voice/<int:note_id>/delete/", views.voice_delete_view, name="voice_delete"),
]
