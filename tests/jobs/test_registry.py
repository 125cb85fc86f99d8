"""The job-kind registry is the one place a kind's queue and handler are named; the rest follows it."""

from __future__ import annotations

import importlib
from pathlib import Path

import yaml

from assistant.core.processes import worker_command
from assistant.jobs.registry import KINDS, LOCAL_WORKERS, QUEUES, REMOTE_CALLS, kind_spec
from assistant.jobs.remote import remote_target

ROOT = Path(__file__).resolve().parents[2]


def test_every_kind_names_a_known_queue_and_a_handler_that_exists() -> None:
    queues = {queue.name for queue in QUEUES}
    for spec in KINDS:
        assert spec.queue in queues, spec
        module_name, function_name = spec.handler.split(":")
        assert callable(getattr(importlib.import_module(module_name), function_name)), spec
        assert kind_spec(spec.kind) is spec


def test_the_local_workers_consume_every_queue_exactly_once() -> None:
    consumed = [queue for _, queues, _ in LOCAL_WORKERS for queue in queues]
    assert sorted(consumed) == sorted(queue.name for queue in QUEUES)


def test_docker_compose_runs_one_worker_per_registry_queue_with_its_concurrency() -> None:
    services = yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"]
    workers = {name: service for name, service in services.items() if name.startswith("worker-")}
    assert sorted(workers) == sorted(f"worker-{queue.name}" for queue in QUEUES)
    for queue in QUEUES:
        expected = worker_command(queues=queue.name, concurrency=queue.concurrency, name=queue.name)
        assert workers[f"worker-{queue.name}"]["command"] == ["celery", *expected[1:]], queue.name


def test_every_remote_call_names_a_function_that_exists() -> None:
    for name in REMOTE_CALLS:
        assert callable(remote_target(name)), name
