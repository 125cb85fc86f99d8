"""The Chroma server client. chromadb is imported on first use, never on the web import path."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import cache
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import urlsplit

from django.conf import settings

if TYPE_CHECKING:
    from chromadb.api import ClientAPI

T = TypeVar("T")


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


@contextmanager
def vector_store_answering() -> Iterator[None]:
    """Turn "the server is not there" into ConnectionError (which the job runner retries), whichever way
    the client says it."""
    import httpx

    try:
        yield
    except httpx.TransportError as exc:
        raise ConnectionError(f"the vector store did not answer ({exc})") from exc
    except ValueError as exc:
        if "could not connect" in str(exc).lower():
            raise ConnectionError(f"the vector store did not answer ({exc})") from exc
        raise


# Collection handles, kept by name: asking the server for one is a round trip per call otherwise.
_collections: dict[str, Any] = {}
_collections_lock = threading.Lock()


def _collection(name: str, metadata: dict[str, Any]) -> Any:
    with _collections_lock:
        if name not in _collections:
            _collections[name] = collection_get(name=name, metadata=metadata)
        return _collections[name]


def collection_call(*, name: str, metadata: dict[str, Any], action: Callable[[Any], T]) -> T:
    """Run `action` on the named collection (created on first use), on a server that is answering."""
    from chromadb.errors import NotFoundError

    with vector_store_answering():
        try:
            return action(_collection(name, metadata))
        except NotFoundError:  # dropped on the server since the handle was kept: make it again
            collection_forget(name=name)
            return action(_collection(name, metadata))


def collection_forget(*, name: str | None = None) -> None:
    """Forget a kept handle (after its collection was dropped); all of them when `name` is None."""
    with _collections_lock:
        if name is None:
            _collections.clear()
        else:
            _collections.pop(name, None)
