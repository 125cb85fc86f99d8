"""A search in the web server has the query worker make its vector (jobs.remote): a real worker, real Redis."""

from __future__ import annotations

import pytest

from assistant.documents.pipeline.embed import text_vector
from assistant.jobs.remote import WEB_PROCESS_ENV, RemoteFailed, remote_call
from tests.support.services import WorkerProcess

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def as_web_server(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(WEB_PROCESS_ENV, "1")


def test_the_query_worker_answers_with_the_same_vector_as_this_process(
    worker: WorkerProcess, as_web_server: None
) -> None:
    question = "what pressure should the boiler have"
    remote = remote_call(name="documents.text_vector", arguments={"text": question})
    local = text_vector(text=question)
    assert len(remote) == len(local) == 384
    assert max(abs(a - b) for a, b in zip(remote, local, strict=True)) < 1e-5


def test_a_failure_in_the_worker_comes_back_as_words(worker: WorkerProcess, as_web_server: None) -> None:
    with pytest.raises(RemoteFailed, match="does not exist"):
        remote_call(name="photos.text_vector", arguments={"model_id": 999_999, "text": "a dog"})


def test_only_registered_calls_can_be_sent(as_web_server: None) -> None:
    with pytest.raises(KeyError):
        remote_call(name="os.system", arguments={"command": "true"})
