from django.urls import path

from assistant.photos import views

urlpatterns = [
    path("photos/", views.photos_page, name="photos"),
    path("photos/more/", views.photos_more, name="photos_more"),
    path("photos/upload/", views.photos_upload, name="photos_upload"),
    path("photos/search/", views.photos_search, name="photos_search"),
    path("photos/<int:photo_id>/similar/", views.photo_similar, name="photo_similar"),
    path("photos/<int:photo_id>/delete/", views.photo_remove, name="photo_delete"),
    path("photos/<int:photo_id>/<str:kind>/", views.photo_file, name="photo_file"),
    path("photos/clip/", views.clip_model_import, name="clip_import"),
    path("photos/clip/<int:model_id>/delete/", views.clip_model_remove, name="clip_delete"),
]
