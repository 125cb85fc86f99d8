"""Whether a chat message asks for the member's photos: a few explicit phrasings, no model involved.

    photo_request("Show me photos of the beach")          -> PhotoRequest("show", "the beach")
    photo_request("find pictures from grandma's birthday") -> PhotoRequest("show", "grandma's birthday")
    photo_request("What is in my photo of the red car?")   -> PhotoRequest("describe", "the red car")
    photo_request("How do I take better photos?")          -> None

"show" answers with the matching thumbnails; "describe" hands the best match to a vision model.
Only a short, one-line message that starts like one of these is taken as a request: anything else
goes to the model as usual. Pure: tests/chat/test_photo_intent.py lists what is and is not a request.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

MAX_CHARS = 200
_PHOTO = r"(?:photos?|pictures?|pics?|images?|snaps(?:hots?)?|shots?)"
_POLITE = r"(?:(?:please|hearth|can you|could you|would you|will you|now)[\s,]+)*"
_OWNED = r"(?:(?:all|some|any)\s+(?:of\s+)?)?(?:(?:my|our|the)\s+)?"
_ABOUT = r"(?:of|from|with|showing|at|in)"
_SUBJECT = r"(?P<subject>.+?)"
_END = r"\s*(?:,?\s*please)?[\s?.!]*$"

Kind = Literal["show", "describe"]
_PHRASINGS: tuple[tuple[Kind, str], ...] = (
    (
        "describe",
        rf"^{_POLITE}(?:what(?:'s|\s+is)\s+(?:in|on)|describe|what\s+do\s+you\s+see\s+in|tell\s+me\s+about)"
        rf"\s+(?:my|our|the)\s+{_PHOTO}\s+{_ABOUT}\s+{_SUBJECT}{_END}",
    ),
    (
        "show",
        rf"^{_POLITE}(?:show|find|get|give|display|pull\s+up|bring\s+up|look\s+for|search\s+for)\s+(?:me\s+|us\s+)?"
        rf"{_OWNED}{_PHOTO}\s+{_ABOUT}\s+{_SUBJECT}{_END}",
    ),
    ("show", rf"^{_POLITE}search\s+(?:my\s+|our\s+)?{_PHOTO}\s+for\s+{_SUBJECT}{_END}"),
    ("show", rf"^(?:do|have)\s+(?:i|we)\s+(?:have|got)\s+(?:any\s+)?{_PHOTO}\s+{_ABOUT}\s+{_SUBJECT}{_END}"),
    ("show", rf"^(?:my\s+|our\s+)?{_PHOTO}\s+(?:of|from)\s+{_SUBJECT}{_END}"),
)
_PATTERNS: tuple[tuple[Kind, re.Pattern[str]], ...] = tuple(
    (kind, re.compile(pattern, re.IGNORECASE)) for kind, pattern in _PHRASINGS
)


@dataclass(frozen=True)
class PhotoRequest:
    kind: Kind
    subject: str  # what to search the photos for, as the member wrote it: "the beach"


def photo_request(text: str) -> PhotoRequest | None:
    """The photo request `text` makes, or None when it is an ordinary message."""
    text = text.strip()
    if not text or len(text) > MAX_CHARS or "\n" in text:
        return None
    for kind, pattern in _PATTERNS:
        match = pattern.match(text)
        if match:
            subject = match.group("subject").strip(" ,;:\"'“”")
            return PhotoRequest(kind=kind, subject=subject) if subject else None
    return None
