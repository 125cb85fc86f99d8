"""Voice notes: Hearth's transcription job against bare faster-whisper, on this machine.

    .venv/bin/python -m bench.voice [--sentences N] [--models base,tiny.en] [--runs 3] [--json] [--keep]

It has espeak-ng say N fixed sentences (default 22) with a second of silence between them, encodes them
as Ogg/Opus (what a phone records), and for each packaged Whisper model measures, one run each:

1. bare faster-whisper: `WhisperModel(folder, cpu, int8, cpu_threads=cores).transcribe(file, ...)` with
   the settings Hearth uses (beam size, VAD filter, thresholds, temperatures), model loaded beforehand;
2. Hearth: the same file uploaded through `voice_upload` and its `voice_transcribe` job run in this
   process by `job_execute`, as a worker runs it (decode in windows, guards, segments written, MiniLM
   embeddings, Chroma upsert), with the model also loaded beforehand;
3. real-time factor (seconds of work per second of audio) of both, and their ratio bare ÷ Hearth
   (goal >= 0.9: Hearth's job costs at most ~10% over the bare library); goal for base: RTF <= 0.15;
4. word error rate of both transcripts against the sentences.

Each model runs --runs times, bare and Hearth back to back each time; the figures are medians, and the
ratio's spread over the runs is printed beside it (both sides swing from run to run on a shared machine).

It starts a private Chroma server and uses SQLite in a temporary HEARTH_DATA_DIR. The load average is
printed before and after, since the machine may be shared.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from bench.common import Row, bench_main, say, table
from bench.documents import chroma_running, django_setup

GOAL_RATIO = 0.9
GOAL_RTF_BASE = 0.15


@dataclass(frozen=True)
class Options:
    sentences: int
    models: list[str]
    runs: int
    as_json: bool
    keep: bool


@dataclass
class ModelResult:
    model: str
    audio_seconds: float
    bare_seconds: float
    hearth_seconds: float
    bare_wer: float
    hearth_wer: float
    segments: int
    ratios: list[float]  # bare ÷ Hearth of each run

    @property
    def bare_rtf(self) -> float:
        return self.bare_seconds / self.audio_seconds

    @property
    def hearth_rtf(self) -> float:
        return self.hearth_seconds / self.audio_seconds

    @property
    def ratio(self) -> float:
        return statistics.median(self.ratios)


def parse_options(argv: list[str] | None) -> Options:
    parser = argparse.ArgumentParser(prog="python -m bench.voice", description=__doc__.splitlines()[0])
    parser.add_argument("--sentences", type=int, default=22, help="espeak-ng sentences in the audio (20 to 22)")
    parser.add_argument("--models", default="base,tiny.en", help="comma-separated packaged models")
    parser.add_argument("--runs", type=int, default=3, help="runs per model; medians are reported")
    parser.add_argument("--json", dest="as_json", action="store_true", help="print JSON instead of the table")
    parser.add_argument("--keep", action="store_true", help="keep the temporary data folder")
    args = parser.parse_args(argv)
    if not 1 <= args.sentences <= 22:
        parser.error("--sentences must be between 1 and 22")
    models = [m.strip() for m in args.models.split(",") if m.strip()]
    return Options(args.sentences, models, max(1, args.runs), args.as_json, args.keep)


def corpus(folder: Path, count: int) -> tuple[Path, str, float]:
    """The Ogg/Opus file, what it says, and its length in seconds."""
    from assistant.voice.intake import audio_inspect
    from tests.support.speech import SENTENCES, audio_convert, speech_with_pauses

    texts = list(SENTENCES[:count])
    wav, _ = speech_with_pauses(texts=texts, path=folder / "corpus.wav")
    ogg = audio_convert(source=wav, target=folder / "corpus.ogg", codec="libopus")
    return ogg, " ".join(texts), audio_inspect(path=ogg).duration


def bare_run(model: str, path: Path, duration: float) -> tuple[float, str]:
    """faster-whisper on its own, with Hearth's settings; (seconds, text)."""
    from faster_whisper import WhisperModel

    from assistant.voice.engines import (
        COMPRESSION_RATIO_LIMIT,
        LOGPROB_LIMIT,
        NO_SPEECH_LIMIT,
        TEMPERATURES,
        cpu_threads,
    )
    from assistant.voice.transcribe import CONDITION_MAX_SECONDS
    from assistant.voice.weights import model_folder

    whisper = WhisperModel(str(model_folder(name=model)), device="cpu", compute_type="int8", cpu_threads=cpu_threads())
    started = time.perf_counter()
    segments, _ = whisper.transcribe(
        str(path),
        language="en",
        beam_size=int(os.environ.get("HEARTH_VOICE_BEAM_SIZE", "1")),
        temperature=list(TEMPERATURES),
        compression_ratio_threshold=COMPRESSION_RATIO_LIMIT,
        log_prob_threshold=LOGPROB_LIMIT,
        no_speech_threshold=NO_SPEECH_LIMIT,
        condition_on_previous_text=duration <= CONDITION_MAX_SECONDS,
        vad_filter=True,
        vad_parameters={"min_silence_duration_ms": 500},
    )
    text = " ".join(segment.text for segment in segments)
    return time.perf_counter() - started, text


def hearth_run(owner: Any, model: str, path: Path) -> tuple[float, str, int]:
    """Upload and run the note's job here, as a worker does; (seconds of the job, text, segments)."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    from assistant.documents.pipeline.embed import embedder
    from assistant.jobs.runner import job_execute
    from assistant.voice.engines import engine_for
    from assistant.voice.models import Segment, VoiceNoteStatus
    from assistant.voice.services import voice_upload

    # Loaded beforehand, as for the bare run: a worker keeps both models for the next note.
    engine_for(model=model).model()  # type: ignore[attr-defined]
    embedder().embed_batch(["warm up"])
    upload = SimpleUploadedFile("Bench note.ogg", path.read_bytes(), content_type="audio/ogg")
    note = voice_upload(owner=owner, upload=upload, model=model, language="en")
    started = time.perf_counter()
    job_execute(job_id=note.job_id, worker="bench")
    seconds = time.perf_counter() - started
    note.refresh_from_db()
    if note.status != VoiceNoteStatus.READY:
        raise RuntimeError(f"the job ended {note.status}: {note.error or note.job.error if note.job else ''}")
    texts = list(Segment.objects.filter(note=note).order_by("number").values_list("text", flat=True))
    return seconds, " ".join(texts), len(texts)


def rows(results: list[ModelResult]) -> list[Row]:
    out = []
    for r in results:
        out.append(
            Row(
                f"{r.model}: RTF (s per s of audio)",
                f"{r.hearth_rtf:.3f}",
                f"{r.bare_rtf:.3f}",
                "",
                (f"base <= {GOAL_RTF_BASE}" if r.model == "base" else ""),
                r.hearth_rtf <= GOAL_RTF_BASE if r.model == "base" else None,
            )
        )
        out.append(
            Row(
                f"{r.model}: speed, bare ÷ Hearth",
                "",
                "",
                f"{r.ratio:.2f} ({min(r.ratios):.2f} to {max(r.ratios):.2f})",
                f">= {GOAL_RATIO}",
                r.ratio >= GOAL_RATIO,
            )
        )
        out.append(Row(f"{r.model}: WER", f"{r.hearth_wer:.3f}", f"{r.bare_wer:.3f}", "", "", None))
    return out


def run(options: Options) -> str:
    from assistant.voice.wer import word_error_rate

    data_dir = Path(tempfile.mkdtemp(prefix="hearth-bench-voice-"))
    load_before = os.getloadavg()
    results: list[ModelResult] = []
    try:
        with chroma_running(data_dir) as port:
            django_setup(data_dir, port)
            from django.contrib.auth import get_user_model

            owner = get_user_model().objects.create_user(username="bench", password=None)
            audio, said, duration = corpus(data_dir / "audio", options.sentences)
            say(f"corpus: {options.sentences} sentences, {duration:.1f} s of Ogg/Opus")
            for model in options.models:
                bare, hearth = [], []
                for number in range(1, options.runs + 1):
                    say(f"{model}: bare faster-whisper, then Hearth's job (run {number}/{options.runs})")
                    bare.append(bare_run(model, audio, duration))
                    hearth.append(hearth_run(owner, model, audio))
                results.append(
                    ModelResult(
                        model,
                        duration,
                        statistics.median(seconds for seconds, _ in bare),
                        statistics.median(seconds for seconds, _, _ in hearth),
                        word_error_rate(reference=said, hypothesis=bare[-1][1]),
                        word_error_rate(reference=said, hypothesis=hearth[-1][1]),
                        hearth[-1][2],
                        [b[0] / h[0] for b, h in zip(bare, hearth, strict=True)],
                    )
                )
    finally:
        if not options.keep:
            shutil.rmtree(data_dir, ignore_errors=True)
    load_after = os.getloadavg()
    if options.as_json:
        return json.dumps({"results": [asdict(r) for r in results], "load": [load_before, load_after]}, indent=2)
    load = (
        f"load average before {load_before[0]:.2f} {load_before[1]:.2f}, after {load_after[0]:.2f} {load_after[1]:.2f}"
    )
    return f"{table(rows(results), plain='bare faster-whisper', result='ratio')}\n\n{os.cpu_count()} cores; {load}"


def main(argv: list[str] | None = None) -> int:
    return bench_main(parse_options(argv), run)


if __name__ == "__main__":
    raise SystemExit(main())
