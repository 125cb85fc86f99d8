"""The cheap first look at a file claimed to be GGUF: magic, version and counts, 24 bytes in all.

Light enough for the web process, so an upload that is plainly not a model is refused at once.
"""

from __future__ import annotations

import struct
from pathlib import Path

GGUF_MAGIC = b"GGUF"
SUPPORTED_VERSIONS = (2, 3)
# Beyond any real model; a header claiming more is corrupt or hostile.
MAX_TENSORS = 1_000_000
MAX_KEYS = 100_000


class GgufInvalid(ValueError):
    """The file is not a usable GGUF model; the message says why in the member's words."""


def gguf_header_check(*, head: bytes) -> None:
    if len(head) < 24:
        raise GgufInvalid("The file is too short to be a GGUF model.")
    if head[:4] != GGUF_MAGIC:
        raise GgufInvalid(
            "This is not a GGUF model file (it does not start with the GGUF signature). "
            "Hearth runs llama.cpp models in GGUF format; convert other formats with llama.cpp's convert script."
        )
    version, tensors, keys = struct.unpack("<IQQ", head[4:24])
    if version not in SUPPORTED_VERSIONS:
        raise GgufInvalid(f"GGUF version {version} is not supported (Hearth reads versions 2 and 3).")
    if tensors > MAX_TENSORS or keys > MAX_KEYS:
        raise GgufInvalid("The GGUF header is corrupt: it claims an impossible number of entries.")


def gguf_file_check(*, path: Path) -> None:
    with path.open("rb") as handle:
        gguf_header_check(head=handle.read(24))
