from django.urls import path

from assistant.chat import views

urlpatterns = [
    path("chat/", views.chat_index, name="chat"),
    path("chat/new/", views.conversation_new, name="conversation_new"),
    path("chat/search/", views.chat_search, name="chat_search"),
    path("chat/personas/", views.personas_page, name="personas"),
    path("chat/personas/<int:persona_id>/delete/", views.persona_delete_view, name="persona_delete"),
    path("chat/images/", views.image_upload, name="image_upload"),
    path("chat/images/<int:image_id>/", views.image_view, name="image_view"),
    path("chat/<int:conversation_id>/", views.conversation_page, name="conversation"),
    path("chat/<int:conversation_id>/rename/", views.conversation_rename_view, name="conversation_rename"),
    path("chat/<int:conversation_id>/delete/", views.conversation_delete_view, name="conversation_delete"),
    path("chat/<int:conversation_id>/settings/", views.conversation_settings, name="conversation_settings"),
    path("chat/<int:conversation_id>/sampling/", views.conversation_sampling_view, name="conversation_sampling"),
    path("api/messages/<int:message_id>/", views.message_api, name="message_api"),
]
