"""Photos in chat: "show me photos of …" answers with the member's own photos found by the photo search,
and "what is in my photo of …" hands the best match to a vision model.

Real parts: the tiny OpenCLIP model (random weights: the words match nothing in particular, but with
two photos and no background both are kept, tests/photos/test_cutoff.py), the Chroma server, tiny
llama.cpp models, and the chat job run here as the llm worker runs it (job_execute).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.db import transaction

from assistant.chat.services import conversation_create, message_send
from assistant.core.storage import member_folder
from assistant.jobs.runner import job_execute
from assistant.models import Message
from assistant.photos.models import ClipModel, Photo
from assistant.photos.services import photo_delete
from tests.support import photos
from tests.support.photo_library import add, clip_model_ready, index_inline, photo_vectors
from tests.support.services import chat_model_add
from tests.support.tiny_clip import tiny_clip

__all__ = ["photo_vectors", "tiny_clip"]
pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def clip(tiny_clip: Path, photo_vectors: None, inline_jobs: list[int]) -> ClipModel:
    return clip_model_ready(tiny_clip)


def ask(owner: Any, text: str) -> Message:
    """Send `text` in a new conversation and write the answer here, as the llm worker would."""
    conversation = conversation_create(owner=owner)
    answer = message_send(owner=owner, conversation_id=conversation.pk, text=text)
    assert answer.job_id is not None
    job_execute(job_id=answer.job_id, worker="test")
    answer.refresh_from_db()
    return answer


def library(owner: Any, first: int, count: int) -> set[int]:
    added = {add(owner, f"scene-{n}.jpg", photos.jpeg(n)).pk for n in range(first, first + count)}
    index_inline(owner)
    return added


def test_show_me_photos_answers_with_the_members_own_photos_only(
    alice: Any, bob: Any, clip: ClipModel, tiny_models: dict[str, Path]
) -> None:
    chat_model_add(tiny_models["llama3"])
    alices = library(alice, 0, 2)
    bobs = library(bob, 10, 3)

    answer = ask(alice, "Show me photos of the beach")
    assert answer.state == Message.State.COMPLETE, answer.error
    shown = [source for source in answer.sources if source["kind"] == "photo"]
    assert {source["photo_id"] for source in shown} == alices
    assert not {source["photo_id"] for source in shown} & bobs
    assert answer.content.startswith("Here are the photos of the beach")
    assert answer.completion_tokens == 0  # no model wrote this: the search did

    other = ask(bob, "find pictures from the beach")
    assert {source["photo_id"] for source in other.sources} <= bobs


def test_no_photo_found_says_so(alice: Any, bob: Any, clip: ClipModel, tiny_models: dict[str, Path]) -> None:
    chat_model_add(tiny_models["llama3"])
    library(bob, 0, 2)
    answer = ask(alice, "photos from the beach")
    assert answer.state == Message.State.COMPLETE
    assert answer.content == "I found no photos of the beach in your library."
    assert answer.sources == []


def test_without_a_clip_model_the_answer_says_what_to_do(
    alice: Any, tiny_models: dict[str, Path], inline_jobs: list[int]
) -> None:
    chat_model_add(tiny_models["llama3"])
    answer = ask(alice, "show me pictures of the garden")
    assert answer.state == Message.State.COMPLETE
    assert "Photo search needs a CLIP model" in answer.content


def test_what_is_in_my_photo_hands_the_best_match_to_the_vision_model(
    alice: Any, clip: ClipModel, tiny_models: dict[str, Path]
) -> None:
    from tests.support.tiny_gguf import MMPROJ_IMAGE_TOKENS

    chat_model_add(tiny_models["llama3"], projector=tiny_models["projector"])
    alices = library(alice, 0, 2)
    plain = ask(alice, "What is in the kitchen?")
    answer = ask(alice, "What is in my photo of the kitchen?")
    assert answer.state == Message.State.COMPLETE, answer.error
    assert answer.completion_tokens > 0  # the model wrote this one
    [source] = answer.sources
    assert source["kind"] == "photo"
    assert source["photo_id"] in alices
    # The photo reached the model as an image: the question costs its image tokens more.
    assert answer.prompt_tokens >= plain.prompt_tokens + MMPROJ_IMAGE_TOKENS

    # Deleting the photo also removes the scaled copy the model was shown.
    shown = Photo.objects.get(pk=source["photo_id"])
    copies = list((member_folder(owner_id=alice.pk, kind="images")).glob(f"photo-{shown.pk}-*.jpg"))
    assert len(copies) == 1
    with transaction.atomic():
        photo_delete(photo=shown)
    assert not copies[0].exists()


def test_a_model_that_cannot_see_shows_the_photo_and_says_which_can(
    alice: Any, clip: ClipModel, tiny_models: dict[str, Path]
) -> None:
    chat_model_add(tiny_models["chatml"])
    alices = library(alice, 0, 2)
    answer = ask(alice, "what's in my picture of the kitchen")
    assert answer.state == Message.State.COMPLETE
    [source] = answer.sources
    assert source["photo_id"] in alices
    assert "cannot see photos" in answer.content
