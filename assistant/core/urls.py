from django.urls import path

from assistant.core import views

urlpatterns = [
    path("", views.home, name="home"),
]
