"""A stopped recording's files, processed into one (docs/media.md "Recording").

Janus writes one .mjr file per publisher and stream (opus audio, VP8 video) into the
recording's folder. Each is converted with janus-pp-rec (Debian's janus-tools) into a
WebM (video) or Ogg Opus (audio) file, and those are combined, without transcoding,
into one WebM file with every stream (PyAV), each shifted by when its first packet
was written (the .mjr header) so that they play in step. The .mjr files are never
deleted or changed: a failed conversion can be tried again.

Bounded: the .mjr files of one recording, and the result, may not pass
RECORDING_MAX_BYTES; each janus-pp-rec run may take RECORDING_CONVERT_SECONDS.
"""

from __future__ import annotations

import heapq
import json
import subprocess
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

from django.conf import settings
from django.utils.translation import gettext_lazy as _

CONVERTER = "janus-pp-rec"
CONTENT_TYPE = "video/webm"

# Why processing failed, as the recording stores it (MediaRecording.failure).
FAILURES = {
    "no_files": _("Janus wrote no files for this recording."),
    "too_large": _("The recording is larger than the platform accepts."),
    "conversion_failed": _("The recorded files could not be converted."),
    "combination_failed": _("The converted files could not be combined into one."),
    "storage_failed": _("The combined file could not be stored."),
}


class ProcessingFailed(Exception):
    def __init__(self, code: str, detail: str = ""):
        super().__init__(f"{code}: {detail}")
        self.code = code
        self.detail = detail[-2000:]


@dataclass
class Track:
    mjr: Path
    kind: str  # "audio" or "video"
    codec: str
    # When Janus wrote the first packet, in microseconds since the epoch.
    first_packet_us: int
    publisher_id: str
    converted: Path | None = None


@dataclass
class Combined:
    path: Path
    duration: float
    tracks: int


def mjr_files(folder: Path) -> list[Path]:
    return sorted(Path(folder).glob("*.mjr"))


def _run(command: list[str]) -> subprocess.CompletedProcess:
    try:
        return subprocess.run(
            command, capture_output=True, text=True, timeout=settings.RECORDING_CONVERT_SECONDS, check=False
        )
    except subprocess.TimeoutExpired as error:
        raise ProcessingFailed("conversion_failed", f"{command[0]} took longer than allowed") from error
    except OSError as error:
        raise ProcessingFailed("conversion_failed", f"{command[0]}: {error}") from error


def _publisher_of(mjr: Path) -> str:
    # videoroom-<room>-user-<publisher id>-<time>-<audio|video>-<mid>.mjr
    parts = mjr.stem.split("-")
    if "user" in parts and parts.index("user") + 1 < len(parts):
        return parts[parts.index("user") + 1]
    return ""


def read_track(mjr: Path) -> Track:
    """The track an .mjr file holds, from its header (`janus-pp-rec --json`)."""
    result = _run([CONVERTER, "--json", str(mjr)])
    try:
        header = json.loads(result.stdout.strip().splitlines()[-1])
        kind = {"a": "audio", "v": "video"}[header["t"]]
        codec = str(header["c"])
        first = int(header.get("u") or header.get("s") or 0)
    except (ValueError, IndexError, KeyError, TypeError) as error:
        raise ProcessingFailed("conversion_failed", f"{mjr.name}: no header ({result.stderr[-500:]})") from error
    if (kind, codec) not in (("audio", "opus"), ("video", "vp8")):
        raise ProcessingFailed("conversion_failed", f"{mjr.name}: unexpected {kind} codec {codec}")
    return Track(mjr=mjr, kind=kind, codec=codec, first_packet_us=first, publisher_id=_publisher_of(mjr))


def convert(track: Track, work: Path) -> Path:
    """janus-pp-rec: the .mjr's packets into a playable file (no transcoding)."""
    target = work / (track.mjr.stem + (".opus" if track.kind == "audio" else ".webm"))
    result = _run([CONVERTER, str(track.mjr), str(target)])
    if result.returncode != 0 or not target.exists() or target.stat().st_size == 0:
        raise ProcessingFailed("conversion_failed", f"{track.mjr.name}: {(result.stderr or result.stdout)[-1500:]}")
    track.converted = target
    return target


def _packets(container, source, offset: float):
    """The stream's packets with their times shifted by `offset` seconds."""
    shift = round(offset / source.time_base) if source.time_base else 0
    for packet in container.demux(source):
        if packet.dts is None and packet.pts is None:
            continue  # the demuxer's flush packet
        time = float((packet.dts if packet.dts is not None else packet.pts) * source.time_base)
        yield time + offset, shift, packet


def _tagged(packets, index: int, stream):
    for time, shift, packet in packets:
        yield time, index, shift, packet, stream


def combine(tracks: list[Track], target: Path, names: dict[str, str]) -> Combined:
    """One WebM with every converted track, in step: each shifted by when its first
    packet was written after the earliest. `names`: publisher id -> the person's name
    (the tracks' titles)."""
    import av

    start = min(track.first_packet_us for track in tracks)
    inputs = []
    try:
        output = av.open(str(target), mode="w", format="webm")
        try:
            merged = []
            for index, track in enumerate(tracks):
                container = av.open(str(track.converted))
                inputs.append(container)
                source = container.streams.audio[0] if track.kind == "audio" else container.streams.video[0]
                stream = output.add_stream_from_template(source)
                stream.metadata["title"] = f"{names.get(track.publisher_id) or track.publisher_id} ({track.kind})"
                offset = (track.first_packet_us - start) / 1_000_000
                merged.append(_tagged(_packets(container, source, offset), index, stream))
            last = 0.0
            for time, _index, shift, packet, stream in heapq.merge(*merged, key=lambda item: (item[0], item[1])):
                if packet.pts is not None:
                    packet.pts += shift
                if packet.dts is not None:
                    packet.dts += shift
                packet.stream = stream
                output.mux(packet)
                last = max(last, time + float((packet.duration or 0) * (packet.time_base or Fraction(0))))
        finally:
            output.close()
    except ProcessingFailed:
        raise
    except Exception as error:
        raise ProcessingFailed("combination_failed", f"{type(error).__name__}: {error}") from error
    finally:
        for container in inputs:
            container.close()
    return Combined(path=target, duration=round(last, 3), tracks=len(tracks))


def process_folder(folder: Path, work: Path, target: Path, names: dict[str, str]) -> Combined:
    """The recording in `folder` (its .mjr files) as one WebM file at `target`,
    converting in `work`. Raises ProcessingFailed with a code of FAILURES."""
    files = mjr_files(folder)
    if not files:
        raise ProcessingFailed("no_files", str(folder))
    size = sum(path.stat().st_size for path in files)
    if size > settings.RECORDING_MAX_BYTES:
        raise ProcessingFailed("too_large", f"{size} bytes of .mjr files")
    tracks = [read_track(path) for path in files]
    for track in tracks:
        convert(track, work)
    combined = combine(tracks, target, names)
    if combined.path.stat().st_size > settings.RECORDING_MAX_BYTES:
        raise ProcessingFailed("too_large", f"{combined.path.stat().st_size} bytes combined")
    return combined
