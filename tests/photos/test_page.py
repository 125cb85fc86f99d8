"""The Photos page and its endpoints through Django's test client: uploads with a clear error per bad file,
the gallery, files only for their owner, the CLIP model on the Models page, search pages."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.test import Client

from assistant.jobs.models import Job, JobStatus
from assistant.jobs.runner import job_execute
from assistant.photos.models import ClipModel, ClipStatus, Photo
from tests.support import photos
from tests.support.photo_library import index_inline
from tests.support.services import WorkerProcess, wait_for
from tests.support.tiny_clip import TINY_ARCHITECTURE

pytestmark = pytest.mark.django_db(transaction=True)
JSON = {"HTTP_ACCEPT": "application/json"}


def client_for(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def post_photo(client: Client, name: str, data: bytes) -> Any:
    from tests.support.documents import upload

    return client.post("/photos/upload/", {"file": upload(name, data)}, **JSON)


def test_a_batch_with_bad_files_keeps_the_good_ones_and_names_each_bad_one(alice: Any, inline_jobs: list[int]) -> None:
    client = client_for(alice)
    batch = [
        ("beach.jpg", photos.jpeg(1, taken=datetime(2023, 8, 2, 15, 0)), 201, ""),
        ("IMG_0001.HEIC", photos.heic(2, taken=datetime(2024, 1, 5, 9, 0)), 201, ""),
        ("anim.gif", photos.gif_animated(3), 201, ""),
        ("odd-exif.jpg", photos.corrupt_exif_jpeg(4), 201, ""),
        ("cut.jpg", photos.truncated_jpeg(5), 400, "cut.jpg is damaged or incomplete"),
        ("bomb.png", photos.png_bomb(), 400, "bomb.png would expand to more than 179 megapixels"),
        ("scan.jpg", photos.PDF_RENAMED, 400, "scan.jpg is a PDF document, not a photo."),
        ("empty.jpg", b"", 400, "empty.jpg is empty (0 bytes)."),
        ("huge.jpg", photos.jpeg_claiming(12_000, 9_000, padding=30_000_000), 400, "huge.jpg is 12000 x 9000 pixels"),
        ("beach again.jpg", photos.jpeg(1, taken=datetime(2023, 8, 2, 15, 0)), 409, "beach again.jpg is already in"),
    ]
    for name, data, status, error in batch:
        response = post_photo(client, name, data)
        assert response.status_code == status, (name, response.content)
        if error:
            assert response.json()["error"].startswith(error)
    assert response.json()["existing"]["name"] == "beach.jpg"
    assert sorted(Photo.objects.filter(owner=alice).values_list("name", flat=True)) == [
        "IMG_0001.HEIC", "anim.gif", "beach.jpg", "odd-exif.jpg"
    ]  # fmt: skip
    folder = settings.DATA_DIR / "users" / str(alice.pk) / "photos"
    assert sorted(path.suffix for path in folder.iterdir() if path.is_file()) == [".gif", ".heic", ".jpg", ".jpg"]
    assert Job.objects.filter(owner=alice, kind="photo_index").count() == 1


def test_the_gallery_groups_by_month_and_says_how_to_enable_search(alice: Any, inline_jobs: list[int]) -> None:
    client = client_for(alice)
    post_photo(client, "summer.jpg", photos.jpeg(1, taken=datetime(2023, 8, 2, 15, 0)))
    post_photo(client, "winter.jpg", photos.jpeg(2, taken=datetime(2024, 1, 5, 9, 0)))
    index_inline(alice)
    page = client.get("/photos/").content.decode()
    assert page.index("January 2024") < page.index("August 2023")
    assert "To search photos by words or by example, ask the household" in page
    heic = post_photo(client, "phone.heic", photos.heic(3)).json()["photo"]
    index_inline(alice)
    view = client.get(f"/photos/{heic['id']}/view/")
    assert view.status_code == 200
    assert view["Content-Type"] == "image/jpeg"  # a JPEG copy: browsers cannot show HEIC
    more = client.get("/photos/more/?after=", **JSON).json()
    assert more["after"] == ""
    assert "summer.jpg" in more["html"]


def test_photos_are_their_owners_alone(alice: Any, bob: Any, inline_jobs: list[int]) -> None:
    photo_id = post_photo(client_for(alice), "mine.jpg", photos.jpeg(1)).json()["photo"]["id"]
    index_inline(alice)
    other = client_for(bob)
    for url in ("thumb", "view", "original", "similar"):
        assert other.get(f"/photos/{photo_id}/{url}/").status_code == 404
    assert other.post(f"/photos/{photo_id}/delete/", **JSON).status_code == 404
    assert "mine.jpg" not in other.get("/photos/").content.decode()
    assert client_for(alice).get(f"/photos/{photo_id}/thumb/").status_code == 200


def test_only_the_owner_imports_a_clip_model_and_a_bad_file_is_refused_with_the_reason(
    alice: Any, olivia: Any, tiny_clip: Path, inline_jobs: list[int], tmp_path: Path
) -> None:
    form = {"architecture": TINY_ARCHITECTURE, "checkpoint": str(tiny_clip)}
    assert client_for(alice).post("/photos/clip/", form, **JSON).status_code == 403
    owner = client_for(olivia)
    assert owner.post("/photos/clip/", form, **JSON).status_code == 202
    junk = tmp_path / "junk.pt"
    junk.write_bytes(b"junk")
    assert owner.post("/photos/clip/", {**form, "checkpoint": str(junk)}, **JSON).status_code == 202
    for job in Job.objects.filter(kind="clip_check").order_by("pk"):
        job_execute(job_id=job.pk, worker="inline")
    good, bad = ClipModel.objects.order_by("pk")
    assert (good.status, good.dimensions) == (ClipStatus.READY, 32)
    assert bad.status == ClipStatus.FAILED
    assert bad.error.startswith("junk.pt does not load as a hearth-tiny-clip checkpoint")
    models_page = owner.get("/models/").content.decode()
    assert "Photo search (CLIP)" in models_page
    assert "32-dimensional vectors" in models_page


def test_search_pages_by_words_and_by_example(alice: Any, clip: ClipModel) -> None:
    client = client_for(alice)
    for n in range(6):
        post_photo(client, f"DSC_{n}.jpg", photos.encoded(photos.texture(n), "JPEG"))
    post_photo(client, "cat.jpg", photos.jpeg(3))
    index_inline(alice)
    words = client.get("/photos/search/?q=a+cat+on+the+sofa")
    assert words.status_code == 200
    assert "Photos of “a cat on the sofa”" in words.content.decode()
    from tests.support.documents import upload

    example = client.post("/photos/search/", {"example": upload("like.jpg", photos.jpeg(3))})
    page = example.content.decode()
    assert "Photos like like.jpg" in page
    assert "1 photo matches" in page
    assert 'data-name="cat.jpg"' in page
    assert "DSC_" not in page


@pytest.mark.worker
def test_the_worker_indexes_an_upload_until_it_is_searchable(
    alice: Any, tiny_clip: Path, photo_vectors: None, worker: WorkerProcess
) -> None:
    from tests.support.photo_library import clip_model_ready

    model = clip_model_ready(tiny_clip)
    photo_id = post_photo(client_for(alice), "worker.jpg", photos.jpeg(2)).json()["photo"]["id"]
    job = Job.objects.get(owner=alice, kind="photo_index")
    wait_for(lambda: Job.objects.get(pk=job.pk).status == JobStatus.SUCCEEDED, timeout=120, what="photo indexing")
    photo = Photo.objects.get(pk=photo_id)
    assert photo.ready
    assert photo.embedded_with_id == model.pk
