"""The photo library with real parts: the tiny OpenCLIP model, the Chroma server, indexing jobs run as a worker
runs them, and the test database."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest
from PIL import ImageEnhance

from assistant.photos.models import ClipModel, Photo
from assistant.photos.search import SearchUnavailable, photos_search_example, photos_search_similar, photos_search_words
from assistant.photos.services import gallery_page, photo_delete, photo_files
from tests.support import photos
from tests.support.photo_library import add, index_inline, vector_ids

pytestmark = pytest.mark.django_db(transaction=True)


def variant(number: int, how: str) -> bytes:
    """Another shot of the same scene: smaller, brighter, or cropped a little."""
    image = photos.scene(number)
    if how == "smaller":
        image = image.resize((320, 240))
    elif how == "brighter":
        image = ImageEnhance.Brightness(image).enhance(1.15)
    elif how == "cropped":
        image = image.crop((20, 15, 620, 465))
    return photos.encoded(image, "JPEG", quality=80)


def library(owner: Any, count: int = 12) -> list[Photo]:
    """`count` photos: textures (most of a library, unrelated to any one search), then scenes 3 and 5."""
    added = [
        add(
            owner,
            f"DSC_{n:04}.jpg",
            photos.encoded(
                photos.texture(n),
                "JPEG",
                quality=85,
                exif=photos.exif_bytes(taken=datetime(2020 + n % 5, 1 + n % 12, 10, 12, 0)),
            ),
        )
        for n in range(count - 2)
    ]
    added += [add(owner, f"IMG_{n:04}.jpg", photos.jpeg(n, taken=datetime(2019, n, 1, 8, 0))) for n in (3, 5)]
    index_inline(owner)
    return [Photo.objects.get(pk=photo.pk) for photo in added]


def scene_photo(added: list[Photo], number: int) -> Photo:
    return next(photo for photo in added if photo.name == f"IMG_{number:04}.jpg")


def test_indexing_makes_thumbnails_and_one_vector_per_photo(alice: Any, clip: ClipModel) -> None:
    added = library(alice, 5)
    assert all(photo.ready and photo.embedded_with_id == clip.pk for photo in added)
    assert vector_ids(alice, clip) == sorted(f"photo:{photo.pk}" for photo in added)
    files = photo_files(photo=added[0])
    assert files is not None
    assert files.thumb.is_file()
    assert not files.preview.exists()  # browsers show JPEG themselves


def test_an_image_finds_itself_first(alice: Any, clip: ClipModel) -> None:
    added = library(alice)
    result = photos_search_example(owner=alice, data=photos.jpeg(5, taken=datetime(2019, 5, 1, 8, 0)), name="a.jpg")
    assert result.found[0].photo == scene_photo(added, 5)
    assert result.found[0].similarity == pytest.approx(1.0, abs=1e-3)


def test_an_uploaded_copy_finds_the_original_first(alice: Any, clip: ClipModel) -> None:
    added = library(alice)
    for how in ("smaller", "brighter", "cropped"):
        result = photos_search_example(owner=alice, data=variant(3, how), name=f"{how}.jpg")
        assert result.found[0].photo == scene_photo(added, 3), how


def test_the_cutoff_drops_unrelated_photos(alice: Any, clip: ClipModel) -> None:
    library(alice, 16)
    for how in ("smaller", "brighter"):
        add(alice, f"{how}.jpg", variant(3, how))
    index_inline(alice)
    result = photos_search_example(owner=alice, data=variant(3, "cropped"), name="cropped.jpg")
    names = [item.photo.name for item in result.found]
    assert set(names) == {"IMG_0003.jpg", "smaller.jpg", "brighter.jpg"}
    assert result.left_out == 15


def test_more_like_this_leaves_the_photo_itself_out(alice: Any, clip: ClipModel) -> None:
    added = library(alice, 10)
    add(alice, "smaller.jpg", variant(3, "smaller"))
    index_inline(alice)
    result = photos_search_similar(owner=alice, photo=scene_photo(added, 3))
    assert [item.photo.name for item in result.found] == ["smaller.jpg"]


def test_results_sorted_by_date_are_newest_first(alice: Any, clip: ClipModel) -> None:
    library(alice, 16)
    for n, how in enumerate(("smaller", "brighter", "cropped")):
        add(
            alice,
            f"{how}.jpg",
            photos.encoded(
                photos.scene(3),
                "JPEG",
                quality=70 + n,
                exif=photos.exif_bytes(taken=datetime(2010 + 5 * n, 6, 1, 9, 0)),
            ),
        )
    index_inline(alice)
    by_match = photos_search_example(owner=alice, data=photos.jpeg(3), name="q.jpg")
    by_date = photos_search_example(owner=alice, data=photos.jpeg(3), name="q.jpg", order="date")
    assert len(by_date.found) == 4
    assert {item.photo.pk for item in by_date.found} == {item.photo.pk for item in by_match.found}
    dates = [item.photo.sort_at for item in by_date.found]
    assert dates == sorted(dates, reverse=True)
    assert [item.photo.pk for item in by_match.found] != [item.photo.pk for item in by_date.found]


def test_words_search_runs_the_text_encoder_and_ranks_by_similarity(alice: Any, clip: ClipModel) -> None:
    library(alice, 8)
    result = photos_search_words(owner=alice, text="a red square on the table")
    similarities = [item.similarity for item in result.found]
    assert similarities == sorted(similarities, reverse=True)
    assert result.encode_seconds > 0
    assert result.considered == 8


def test_members_never_see_each_others_photos(alice: Any, bob: Any, clip: ClipModel) -> None:
    added = library(alice, 6)
    bob_photo = add(bob, "bob.jpg", photos.jpeg(3))
    index_inline(bob)
    result = photos_search_example(owner=bob, data=photos.jpeg(3), name="q.jpg")
    assert [item.photo for item in result.found] == [bob_photo]
    assert gallery_page(owner=bob).photos == [bob_photo]
    with pytest.raises(SearchUnavailable):
        photos_search_similar(owner=bob, photo=added[1])  # bob's collection has no vector of alice's photo


def test_delete_removes_file_thumbnail_row_and_vectors(alice: Any, clip: ClipModel) -> None:
    added = library(alice, 3)
    files = photo_files(photo=added[1])
    assert files is not None
    photo_delete(photo=added[1])
    assert not Photo.objects.filter(pk=added[1].pk).exists()
    assert not files.original.exists()
    assert not files.thumb.exists()
    assert vector_ids(alice, clip) == sorted(f"photo:{photo.pk}" for photo in (added[0], added[2]))


def test_a_run_interrupted_after_writing_vectors_resumes_without_duplicates(alice: Any, clip: ClipModel) -> None:
    added = library(alice, 4)
    Photo.objects.filter(pk__in=[p.pk for p in added[2:]]).update(ready=False, embedded_with=None)
    add(alice, "later.jpg", photos.jpeg(9))
    index_inline(alice)
    assert vector_ids(alice, clip) == sorted(f"photo:{photo.pk}" for photo in Photo.objects.filter(owner=alice))
    assert len(vector_ids(alice, clip)) == 5


def test_without_a_clip_model_photos_still_get_thumbnails_and_search_says_why(
    alice: Any, photo_vectors: None, inline_jobs: list[int]
) -> None:
    photo = add(alice, "a.jpg", photos.jpeg(1))
    index_inline(alice)
    photo.refresh_from_db()
    assert photo.ready
    assert photo.embedded_with is None
    with pytest.raises(SearchUnavailable, match="Photo search needs a CLIP model"):
        photos_search_words(owner=alice, text="anything")


def test_the_gallery_pages_by_date_without_gaps_or_repeats(alice: Any, inline_jobs: list[int]) -> None:
    for n in range(7):
        add(alice, f"{n}.jpg", photos.jpeg(n, taken=datetime(2022, 1 + n % 3, 1 + n, 8, 0)))
    seen: list[Photo] = []
    after = ""
    while True:
        page = gallery_page(owner=alice, after=after, size=3)
        seen.extend(page.photos)
        after = page.after
        if not after:
            break
    assert len(seen) == len({photo.pk for photo in seen}) == 7
    assert [p.sort_at for p in seen] == sorted((p.sort_at for p in seen), reverse=True)


def test_removing_the_clip_model_drops_its_vectors(alice: Any, clip: ClipModel) -> None:
    from assistant.photos.services import clip_delete

    library(alice, 4)
    assert len(vector_ids(alice, clip)) == 4
    clip_delete(model=clip)
    assert not Photo.objects.filter(embedded_with__isnull=False).exists()
    from assistant.photos.store import collection_names

    assert collection_names(owner_id=alice.pk) == []
