"""Browser recordings made seekable: MediaRecorder writes WebM with no duration and no cues, so a player
cannot jump to 1:42 in it. Copying its packets into a new WebM (no re-encoding) writes both."""

from __future__ import annotations

import logging
import os
from pathlib import Path

log = logging.getLogger(__name__)


def _remux(source: Path, target: Path) -> None:
    import av

    with av.open(str(source), metadata_errors="ignore") as inp, av.open(str(target), "w", format="webm") as out:
        in_stream = inp.streams.audio[0]
        out_stream = out.add_stream_from_template(in_stream)
        for packet in inp.demux(in_stream):
            if packet.dts is None:  # the flush packet at the end
                continue
            packet.stream = out_stream
            out.mux(packet)


def audio_remux_if_unseekable(*, path: Path, container: str) -> bool:
    """Rewrite a WebM in place with its duration and cues; True when it was rewritten.

    A file that cannot be rewritten is kept as it is: it still transcribes, only seeking suffers.
    """
    if container != "matroska,webm":
        return False
    import av

    temporary = path.with_name(f".{path.name}.remux")
    try:
        _remux(path, temporary)
        os.replace(temporary, path)
    except (av.error.FFmpegError, ValueError, OSError):
        log.warning("could not remux %s; keeping it as recorded", path.name, exc_info=True)
        temporary.unlink(missing_ok=True)
        return False
    return True
