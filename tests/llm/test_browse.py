"""The owner's file browser for imports (issue 12, item 8): only inside HEARTH_IMPORT_ROOTS, links followed
before they are judged, owner only; and several ticked files become as many jobs and as many models.

The files are real: tiny GGUF models from tests/support/tiny_gguf.py, imported by a real Celery worker.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from assistant.llm.browse import BrowseRefused, browse_resolve, folder_list, import_roots, import_selection_check
from assistant.models import Job, JobStatus, LocalModel
from tests.support.model_files import (
    chat_model,
    files_under,
    models_dir_fixture,  # noqa: F401  (the autouse fixture models_dir)
    owner_client,
    wait_for_job,
)
from tests.support.services import WorkerProcess

JSON = {"accept": "application/json"}


@pytest.fixture
def stick(tmp_path: Path, settings: Any) -> Path:
    """A USB stick's folder as the only import root (a second root that doesn't exist is not shown)."""
    root = tmp_path / "media" / "STICK"
    (root / "models" / "deep").mkdir(parents=True)
    (root / "notes.txt").write_text("not a model")
    (root / ".hidden.gguf").write_bytes(b"GGUF")
    settings.HEARTH_IMPORT_ROOTS = [root, tmp_path / "not-mounted"]
    return root


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    folder = tmp_path / "private"
    folder.mkdir()
    chat_model(folder / "secret.gguf", name="Secret")
    return folder


def test_only_roots_that_exist_are_offered(stick: Path) -> None:
    roots = import_roots()
    assert [(root.index, root.path) for root in roots] == [(0, stick.resolve())]


def test_a_folder_lists_subfolders_and_model_files_with_sizes_and_nothing_else(stick: Path) -> None:
    first = chat_model(stick / "models" / "a.gguf", name="A")
    (stick / "models" / "large-v3.pt").write_bytes(b"x" * 1234)
    listing = folder_list(root="0", path="models")
    assert [(e.name, e.kind, e.relative) for e in listing.entries] == [
        ("deep", "folder", "models/deep"),
        ("a.gguf", "gguf", "models/a.gguf"),
        ("large-v3.pt", "whisper_pt", "models/large-v3.pt"),
    ]
    assert listing.entries[1].size == first.stat().st_size
    assert listing.entries[2].size_label == "1.2 KB"
    assert listing.parent == ""
    assert [name for _, name in listing.crumbs] == ["models"]
    top = folder_list(root="0")
    assert [e.name for e in top.entries] == ["models"]  # notes.txt and hidden files are not shown


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("../private", r"“\.\.” is not allowed"),
        ("models/../../private", r"“\.\.” is not allowed"),
        ("/etc", "is a full path"),
        ("~/", "is a full path"),
        ("missing", "There is no “missing”"),
    ],
)
def test_paths_that_leave_the_root_or_do_not_exist_are_refused(
    stick: Path, outside: Path, path: str, expected: str
) -> None:
    with pytest.raises(BrowseRefused, match=expected):
        browse_resolve(root="0", path=path)


def test_an_unknown_root_is_refused(stick: Path) -> None:
    for root in ("1", "7", "-1", "abc", ""):
        with pytest.raises(BrowseRefused, match="not one Hearth may look in"):
            browse_resolve(root=root, path="")


def test_a_link_out_of_the_root_is_neither_listed_nor_opened_nor_imported(stick: Path, outside: Path) -> None:
    (stick / "models" / "escape").symlink_to(outside, target_is_directory=True)
    (stick / "models" / "secret.gguf").symlink_to(outside / "secret.gguf")
    inside = chat_model(stick / "models" / "deep" / "inside.gguf", name="Inside")
    (stick / "models" / "alias.gguf").symlink_to(inside)  # a link that stays inside is fine

    assert [e.name for e in folder_list(root="0", path="models").entries] == ["deep", "alias.gguf"]
    for path in ("models/escape", "models/escape/secret.gguf", "models/secret.gguf"):
        with pytest.raises(BrowseRefused, match="leads outside"):
            browse_resolve(root="0", path=path)
    with pytest.raises(BrowseRefused, match="leads outside"):
        import_selection_check(root="0", paths=["models/deep/inside.gguf", "models/secret.gguf"])
    chosen = import_selection_check(root="0", paths=["models/alias.gguf"])
    assert [item.path for item in chosen] == [inside.resolve()]


def test_a_root_that_is_itself_a_link_is_judged_by_where_it_leads(tmp_path: Path, settings: Any) -> None:
    real = tmp_path / "real"
    (real / "sub").mkdir(parents=True)
    link = tmp_path / "link"
    link.symlink_to(real, target_is_directory=True)
    settings.HEARTH_IMPORT_ROOTS = [link]
    assert [e.name for e in folder_list(root="0").entries] == ["sub"]
    with pytest.raises(BrowseRefused, match=r"“\.\.” is not allowed"):
        browse_resolve(root="0", path="sub/../..")


@pytest.mark.django_db
def test_members_who_are_not_the_owner_get_403_and_see_nothing(stick: Path, alice: Any) -> None:
    client = owner_client(alice)
    for headers in (JSON, {}):
        assert client.get("/models/browse/?root=0", headers=headers).status_code == 403
        response = client.post("/models/import-selected/", {"root": "0", "path": ["models/a.gguf"]}, headers=headers)
        assert response.status_code == 403
    assert "deep" not in client.get("/models/browse/?root=0&path=models", headers=JSON).content.decode()
    assert not Job.objects.exists()


@pytest.mark.django_db
def test_the_listing_refuses_an_escape_with_a_clear_error(stick: Path, outside: Path, olivia: Any) -> None:
    (stick / "out").symlink_to(outside, target_is_directory=True)
    client = owner_client(olivia)
    for path in ("out", "../private", str(outside)):
        response = client.get("/models/browse/", {"root": "0", "path": path}, headers=JSON)
        assert response.status_code == 400
        assert "secret" not in response.content.decode()
    page = client.get("/models/browse/", {"root": "0", "path": "out"})
    assert page.status_code == 400
    assert "leads outside" in page.content.decode()


@pytest.mark.django_db
def test_one_refused_file_refuses_the_whole_selection(stick: Path, olivia: Any, models_dir: Path) -> None:
    chat_model(stick / "models" / "a.gguf")
    (stick / "models" / "fake.gguf").write_text("Just notes, renamed.\n" * 5)
    response = owner_client(olivia).post(
        "/models/import-selected/", {"root": "0", "path": ["models/a.gguf", "models/fake.gguf"]}, headers=JSON
    )
    assert response.status_code == 400
    assert "not a GGUF model file" in response.json()["error"]
    assert not Job.objects.exists()
    assert files_under(models_dir) == []
    nothing = owner_client(olivia).post("/models/import-selected/", {"root": "0", "folder": "models"}, follow=True)
    assert "Tick at least one model file" in nothing.content.decode()


@pytest.mark.django_db(transaction=True)
def test_several_ticked_files_become_as_many_jobs_and_models(
    stick: Path, olivia: Any, models_dir: Path, worker: WorkerProcess
) -> None:
    for number in range(3):
        chat_model(stick / "models" / f"tiny-{number}.gguf", name=f"Tiny {number}", seed=number)
    paths = [f"models/tiny-{number}.gguf" for number in range(3)]

    response = owner_client(olivia).post("/models/import-selected/", {"root": "0", "path": paths}, headers=JSON)

    assert response.status_code == 202
    jobs = response.json()["jobs"]
    assert len(jobs) == 3 == Job.objects.filter(kind="model_import").count()
    for job in jobs:
        assert wait_for_job(job["id"]).status == JobStatus.SUCCEEDED
    names = set(LocalModel.objects.filter(from_package=False).values_list("name", flat=True))
    assert names == {"Tiny 0", "Tiny 1", "Tiny 2"}
    assert sorted(p.name for p in models_dir.glob("*.gguf")) == ["tiny-0.gguf", "tiny-1.gguf", "tiny-2.gguf"]
    assert all(p.is_file() for p in stick.glob("models/*.gguf"))  # the stick keeps its files
