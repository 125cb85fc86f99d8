"""Which chat messages ask for the member's photos: explicit phrasings only, decided without a model."""

from __future__ import annotations

import pytest

from assistant.chat.photo_intent import PhotoRequest, photo_request


@pytest.mark.parametrize(
    ("text", "subject"),
    [
        ("show me photos of the beach", "the beach"),
        ("Show me photos of the beach.", "the beach"),
        ("Show me my pictures from grandma's birthday", "grandma's birthday"),
        ("find pictures of our dog", "our dog"),
        ("Find me some photos of snow, please", "snow"),
        ("Can you show me all of my photos from the trip to Rome?", "the trip to Rome"),
        ("please find images with a red car", "a red car"),
        ("photos from the beach", "the beach"),
        ("Pictures of the garden", "the garden"),
        ("search my photos for sunsets", "sunsets"),
        ("Do I have any photos of the lake?", "the lake"),
        ("pull up the pics from the wedding", "the wedding"),
    ],
)
def test_asking_to_see_photos_is_a_show_request(text: str, subject: str) -> None:
    assert photo_request(text) == PhotoRequest(kind="show", subject=subject)


@pytest.mark.parametrize(
    ("text", "subject"),
    [
        ("What is in my photo of the beach?", "the beach"),
        ("what's in the picture of the kitchen", "the kitchen"),
        ("Describe my photo from the wedding", "the wedding"),
        ("What do you see in our picture of the garden?", "the garden"),
    ],
)
def test_asking_what_a_photo_shows_is_a_describe_request(text: str, subject: str) -> None:
    assert photo_request(text) == PhotoRequest(kind="describe", subject=subject)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "How do I take better photos?",
        "Show me how to edit photos of the beach",
        "What is a good camera for photos of birds?",
        "show me photos",
        "photos of",
        "Tell me a story about a photographer who took photos of the beach",
        "show me photos of the beach\nand then write a poem",
        "show me photos of " + "a very long subject " * 12,
        "I looked at the photos of the beach yesterday",
    ],
)
def test_other_messages_are_not_photo_requests(text: str) -> None:
    assert photo_request(text) is None
