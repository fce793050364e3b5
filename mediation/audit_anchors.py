"""Anchors: the chain's head, written outside the database from time to time.

A keyed chain stops anyone without the key from rewriting history, but not someone
with the database's own rights from deleting its newest entries and rolling the head
back, or from emptying both tables: what is left is still a valid chain. An anchor is
a small signed file recording how long the chain was and the hash of its newest entry
at a moment; `verify_audit` checks the chain against every anchor it finds, so a
chain that lost entries or was rewritten before an anchored point is reported.

`anchor_audit` (run from cron) writes them under `AUDIT_ANCHOR_DIR`. They are signed
with an HMAC under the audit chain's key (mediation.audit_keys), not with the
platform's PKI: the PKI belongs to `documents`, which `mediation` does not import,
and an asymmetric signature would protect against no one the HMAC does not, since
whoever holds the web hosts' secrets holds the chain key too. What the anchors add
is a place the database's administrators cannot write: point `AUDIT_ANCHOR_DIR` at
such a place, or copy the files there, because deleting anchors loses the
protection they give.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hmac
import json
import os
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings

from mediation.audit_keys import signing_key, verifying_key

FORMAT = "mediation-audit-anchor/1"
FILE_PREFIX = "audit-anchor-"
# An anchor is a few hundred bytes; anything much larger is not one of ours.
MAX_FILE_BYTES = 4096
_SIGNED_FIELDS = ("format", "seq", "entry_id", "entry_hash", "anchored_at", "key_id")


@dataclass(frozen=True)
class Anchor:
    """The chain's head at `anchored_at`: `seq` entries, the last being `entry_id`
    with hash `entry_hash`."""

    name: str
    seq: int
    entry_id: int
    entry_hash: str
    anchored_at: dt.datetime


@dataclass(frozen=True)
class AnchorProblem:
    name: str
    reason: str


def anchor_directory() -> Path:
    return Path(settings.AUDIT_ANCHOR_DIR)


def _canonical(payload: dict) -> bytes:
    return json.dumps(
        {field: payload[field] for field in _SIGNED_FIELDS}, sort_keys=True, separators=(",", ":")
    ).encode("utf-8")


def write_anchor(*, seq: int, entry_id: int, entry_hash: str, directory: Path | None = None) -> Path:
    """Write a new signed anchor file for the chain's head and return its path. Never
    overwrites a file: each anchor is a new one."""
    directory = Path(directory or anchor_directory())
    directory.mkdir(parents=True, exist_ok=True)
    key = signing_key()
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    payload = {
        "format": FORMAT,
        "seq": seq,
        "entry_id": entry_id,
        "entry_hash": entry_hash,
        "anchored_at": now.isoformat(),
        "key_id": key.key_id,
    }
    payload["signature"] = key.sign_anchor(_canonical(payload))
    content = json.dumps(payload, indent=2, sort_keys=True).encode("utf-8") + b"\n"
    final = directory / f"{FILE_PREFIX}{seq:012d}-{now:%Y%m%dT%H%M%SZ}.json"
    temporary = directory / f".{final.name}.{os.getpid()}.tmp"
    with open(temporary, "wb") as stream:
        stream.write(content)
        stream.flush()
        os.fsync(stream.fileno())
    try:
        # link, not rename: fails instead of replacing an anchor of the same name.
        os.link(temporary, final)
    finally:
        temporary.unlink()
    with contextlib.suppress(OSError):  # make the new name durable where the platform allows
        descriptor = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(descriptor)
        finally:
            os.close(descriptor)
    return final


def _parse(name: str, raw: bytes) -> Anchor | AnchorProblem:
    try:
        payload = json.loads(raw)
        if not isinstance(payload, dict) or payload.get("format") != FORMAT:
            return AnchorProblem(name, "it is not an audit anchor of this format")
        seq, entry_id = payload["seq"], payload["entry_id"]
        entry_hash, key_id, signature = payload["entry_hash"], payload["key_id"], payload["signature"]
        anchored_at = dt.datetime.fromisoformat(payload["anchored_at"])
        if not (
            isinstance(seq, int)
            and isinstance(entry_id, int)
            and seq > 0
            and all(isinstance(value, str) for value in (entry_hash, key_id, signature))
        ):
            raise ValueError
    except (KeyError, TypeError, ValueError):
        return AnchorProblem(name, "it cannot be read (not a well-formed anchor)")
    key = verifying_key(key_id)
    if key is None:
        return AnchorProblem(name, f"it is signed with key {key_id}, which this server does not have")
    if not hmac.compare_digest(key.sign_anchor(_canonical(payload)), signature):
        return AnchorProblem(name, "its signature does not match its content (the file was changed)")
    return Anchor(name=name, seq=seq, entry_id=entry_id, entry_hash=entry_hash, anchored_at=anchored_at)


def load_anchors(directory: Path | None = None) -> tuple[list[Anchor], list[AnchorProblem]]:
    """Every anchor file in the directory, checked; the genuine ones in the order of
    the chain, and a problem for each file that is not genuine."""
    directory = Path(directory or anchor_directory())
    anchors, problems = [], []
    if not directory.is_dir():
        return anchors, problems
    for path in sorted(directory.glob(f"{FILE_PREFIX}*.json")):
        try:
            with open(path, "rb") as stream:
                raw = stream.read(MAX_FILE_BYTES + 1)
        except OSError as error:
            problems.append(AnchorProblem(path.name, f"it cannot be read ({error.strerror})"))
            continue
        if len(raw) > MAX_FILE_BYTES:
            problems.append(AnchorProblem(path.name, "it is too large to be an anchor"))
            continue
        parsed = _parse(path.name, raw)
        (problems if isinstance(parsed, AnchorProblem) else anchors).append(parsed)
    anchors.sort(key=lambda anchor: (anchor.seq, anchor.anchored_at))
    return anchors, problems
