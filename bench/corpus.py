"""The benchmark's documents: a seeded corpus of household PDFs pages, the evaluation set in
bench/eval/household.json with its facts set among generated pages, and questions to time searches with.
"""

from __future__ import annotations

import json
import random
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

EVAL_SET = Path(__file__).resolve().parent / "eval" / "household.json"
PAGES_PER_DOCUMENT = 20
SEED = 20261128


NAMES = (
    "Anna", "Jonas", "Leo", "Marta", "Priya", "Tomasz", "Chloe", "Samir", "Ingrid", "Kofi", "Lucia", "Hamish",
    "Yuki", "Olu", "Beatriz", "Pavel", "Greta", "Ravi", "Sofia", "Declan",
)  # fmt: skip
MONTHS = (
    "January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
    "November", "December",
)  # fmt: skip
TOPICS: dict[str, tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]]] = {
    # topic: (things, actions, places)
    "heating": (
        (
            "the boiler",
            "the thermostat",
            "the hot water cylinder",
            "the towel radiator",
            "the expansion vessel",
            "the underfloor manifold",
            "the gas meter",
            "the timer",
        ),
        ("checked", "serviced", "bled", "reset", "replaced", "cleaned", "adjusted", "inspected"),
        ("the utility room", "the loft", "the landing cupboard", "the garage", "the kitchen"),
    ),
    "garden": (
        (
            "the lawn mower",
            "the apple tree",
            "the greenhouse",
            "the compost bin",
            "the hedge trimmer",
            "the water butt",
            "the raised beds",
            "the strawberry patch",
        ),
        ("pruned", "fed", "repaired", "emptied", "sharpened", "planted", "watered", "covered"),
        ("the back garden", "the allotment", "the shed", "the front border", "the patio"),
    ),
    "car": (
        (
            "the front brake pads",
            "the windscreen wipers",
            "the battery",
            "the air filter",
            "the winter tyres",
            "the roof box",
            "the child seat",
            "the cambelt",
        ),
        ("fitted", "checked", "charged", "swapped", "topped up", "tightened", "booked in", "replaced"),
        ("the garage on Mill Lane", "the driveway", "the tyre centre", "the car park", "the dealer"),
    ),
    "money": (
        (
            "the council tax",
            "the energy bill",
            "the mortgage payment",
            "the savings account",
            "the pension",
            "the broadband contract",
            "the water rates",
            "the school dinner account",
        ),
        ("paid", "switched", "renewed", "reviewed", "cancelled", "increased", "queried", "set up"),
        ("the bank app", "the building society", "the online portal", "the post office", "the council office"),
    ),
    "health": (
        (
            "the inhaler",
            "the blood pressure check",
            "the dental appointment",
            "the eye test",
            "the flu jab",
            "the physiotherapy",
            "the hay fever tablets",
            "the first aid kit",
        ),
        ("booked", "collected", "renewed", "postponed", "attended", "restocked", "reviewed", "ordered"),
        ("the surgery", "the pharmacy", "the dentist on High Street", "the optician", "the clinic"),
    ),
    "school": (
        (
            "the reading folder",
            "the trip consent form",
            "the swimming kit",
            "the parents' evening",
            "the homework diary",
            "the lunch money",
            "the violin lesson",
            "the science project",
        ),
        ("signed", "returned", "packed", "arranged", "paid for", "labelled", "finished", "collected"),
        ("the school office", "the classroom", "the music room", "the after-school club", "the library"),
    ),
    "house": (
        (
            "the washing machine",
            "the smoke alarms",
            "the gutters",
            "the dishwasher filter",
            "the loft hatch",
            "the back door lock",
            "the bathroom sealant",
            "the fuse box",
        ),
        ("repaired", "tested", "cleared", "descaled", "painted", "oiled", "resealed", "labelled"),
        ("the kitchen", "the bathroom", "the hallway", "the cellar", "the spare room"),
    ),
    "travel": (
        (
            "the passports",
            "the ferry tickets",
            "the travel insurance",
            "the campsite booking",
            "the airport parking",
            "the euro cash",
            "the tent",
            "the hotel in Porto",
        ),
        ("renewed", "booked", "printed", "confirmed", "packed", "cancelled", "upgraded", "checked"),
        ("the travel agent", "the post office", "the station", "the harbour", "the airport"),
    ),
}
SENTENCES = (
    "On {day} {month} {name} {action} {thing} in {place}, and it cost {price} pounds in total.",
    "{name} says {thing} should be {action} every {every} months, so the next time is in {month}.",
    "Reminder for {name}: {thing} was last {action} on {day} {month} {year} by {other}.",
    "The receipt for {thing} ({price} pounds, reference {ref}) is filed in the blue folder in {place}.",
    "If {thing} needs attention again, {other} from {place} can come on a weekday; call {phone}.",
    "We agreed that {name} and {other} take turns: {name} handles {thing}, {other} keeps the notes.",
    "After {thing} was {action}, {name} wrote down that it took {minutes} minutes and {count} attempts.",
    "The guarantee on {thing} runs until {month} {year}; the serial number is {ref}.",
    "Budget note: {thing} has cost {price} pounds this year against {budget} pounds planned.",
    "{other} recommended checking {thing} before winter, ideally in {month}, and keeping spares in {place}.",
)


def _sentence(rng: random.Random, topic: str) -> str:
    things, actions, places = TOPICS[topic]
    name, other = rng.sample(NAMES, 2)
    return rng.choice(SENTENCES).format(
        name=name,
        other=other,
        thing=rng.choice(things),
        action=rng.choice(actions),
        place=rng.choice(places),
        day=rng.randint(1, 28),
        month=rng.choice(MONTHS),
        year=rng.randint(2019, 2026),
        price=f"{rng.randint(12, 2400):,}",
        budget=f"{rng.randint(100, 3000):,}",
        every=rng.choice((3, 6, 12, 18, 24)),
        ref=f"{rng.choice('ABCDEFGHKMNPRTX')}{rng.randint(1000, 99999)}-{rng.randint(10, 99)}",
        phone=f"07{rng.randint(100, 999)} {rng.randint(100000, 999999)}",
        minutes=rng.randint(5, 180),
        count=rng.randint(1, 5),
    )


def corpus_page(rng: random.Random, topic: str, *, sentences: int) -> list[str]:
    """One page of plausible household notes about `topic`, wrapped into PDF lines."""
    body = " ".join(_sentence(rng, topic) for _ in range(sentences))
    return textwrap.wrap(body, 95)


def corpus_documents(pages: int) -> Iterator[tuple[str, list[list[str]]]]:
    """(name, pages of lines) for PDFs of PAGES_PER_DOCUMENT pages, pages in all (the last one shorter)."""
    rng = random.Random(SEED)
    topics = list(TOPICS)
    number = 0
    while pages > 0:
        count = min(PAGES_PER_DOCUMENT, pages)
        topic = topics[number % len(topics)]
        title = f"{topic.title()} notebook {number // len(topics) + 1}"
        lines = [
            [f"{title}, page {n}", *corpus_page(rng, topic, sentences=rng.randint(12, 18))] for n in range(1, count + 1)
        ]
        yield f"{title}.pdf", lines
        pages -= count
        number += 1


def eval_documents() -> tuple[list[tuple[str, list[list[str]]]], list[dict[str, Any]]]:
    """The evaluation PDFs (facts on their pages, generated filler around them) and the questions."""
    data = json.loads(EVAL_SET.read_text())
    rng = random.Random(SEED + 1)
    topics = list(TOPICS)
    documents, questions = [], []
    for index, document in enumerate(data["documents"]):
        topic = topics[index % len(topics)]
        pages = []
        for number in range(1, document["page_count"] + 1):
            fact = document["pages"].get(str(number))
            if fact is None:
                pages.append(corpus_page(rng, topic, sentences=rng.randint(10, 14)))
            else:
                before = " ".join(_sentence(rng, topic) for _ in range(3))
                after = " ".join(_sentence(rng, topic) for _ in range(3))
                pages.append([*textwrap.wrap(before, 95), *textwrap.wrap(fact, 95), *textwrap.wrap(after, 95)])
        documents.append((document["name"], pages))
        questions += [{**q, "document": document["name"]} for q in document["questions"]]
    return documents, questions


def latency_queries(questions: list[dict[str, Any]], count: int) -> list[str]:
    """The evaluation questions, then generated ones about the corpus' topics, `count` in all."""
    rng = random.Random(SEED + 2)
    queries = [q["question"] for q in questions]
    while len(queries) < count:
        topic = rng.choice(list(TOPICS))
        things, actions, places = TOPICS[topic]
        queries.append(
            rng.choice(
                (
                    "When was {thing} last {action}?",
                    "How much did we pay when {thing} was {action}?",
                    "Who looks after {thing} and where are the receipts kept?",
                    "Is {thing} still under guarantee?",
                    "What did {name} note about {thing} in {place}?",
                )
            ).format(
                thing=rng.choice(things), action=rng.choice(actions), place=rng.choice(places), name=rng.choice(NAMES)
            )
        )
    return queries[:count]
