"""What bench.chat_stream asks: a warm-up, long stories for single turns, and conversations."""

from __future__ import annotations

WARM_UP = "Write a short poem about bread."

STORIES = (
    "Write a long story about a lighthouse keeper who finds a message in a bottle.",
    "Write a long story about a baker who opens a shop on the moon.",
    "Write a long story about two friends who build a boat together.",
    "Write a long story about a cat who learns to play the piano.",
    "Write a long story about a gardener who grows a giant pumpkin.",
)

OPENERS = (
    "What could I cook tonight with rice, eggs and spinach?",
    "What could I cook tonight with pasta, tomatoes and basil?",
    "What could I cook tonight with potatoes, leeks and cheese?",
    "What could I cook tonight with lentils, carrots and onions?",
    "What could I cook tonight with bread, mushrooms and cream?",
)

FOLLOW_UPS = (
    "How long does it take to make?",
    "Can I make it for a vegetarian guest?",
    "Write a shopping list for it.",
    "How do I store the leftovers?",
    "Suggest a dessert to go with it.",
    "What drink goes well with this meal?",
    "How would I explain the recipe to a child?",
    "Summarise the whole plan in three steps.",
    "Thank you! Any last tips?",
)


def conversation_texts(repeat: int, turns: int) -> list[str]:
    return [OPENERS[repeat % len(OPENERS)]] + [FOLLOW_UPS[i % len(FOLLOW_UPS)] for i in range(turns - 1)]
