from django.urls import path

from assistant.core import views

urlpatterns = [
    path("", views.home, name="home"),
    path("photos/", views.coming_soon, {"page": "photos"}, name="photos"),
    path("voice/", views.coming_soon, {"page": "voice"}, name="voice"),
]
