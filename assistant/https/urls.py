from django.urls import path

from assistant.https import views

urlpatterns = [
    path("connect/", views.connect_page, name="connect"),
    path("connect/hearth-ca.crt", views.ca_certificate_download, name="connect_ca"),
    path("connect/hearth.mobileconfig", views.ca_profile_download, name="connect_profile"),
    path("connect/https/", views.https_choice, name="connect_https"),
    path("sw.js", views.service_worker, name="service_worker"),
    path("offline/", views.offline_page, name="offline"),
]
