"""The Chroma server client. chromadb is imported on first use, never on the web import path."""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from django.conf import settings

if TYPE_CHECKING:
    from chromadb.api import ClientAPI


@cache
def chroma_client() -> ClientAPI:
    import chromadb
    from chromadb.config import Settings

    url = urlsplit(settings.CHROMA_URL)
    return chromadb.HttpClient(
        host=url.hostname or "127.0.0.1",
        port=url.port or (443 if url.scheme == "https" else 8000),
        ssl=url.scheme == "https",
        settings=Settings(anonymized_telemetry=False),
    )


def collection_get(*, name: str, metadata: dict[str, Any] | None = None) -> Any:
    """A collection whose vectors Hearth always computes itself: no embedding function of Chroma's."""
    return chroma_client().get_or_create_collection(name=name, embedding_function=None, metadata=metadata)
