"""A delivered file, read once and only when it is complete.

The file is copied, and checksummed in the same pass, into a private folder; everything
the landing reads (its head, its tail, its records) comes from that copy, so the bytes in
the manifest's checksum are the bytes landed. A file still being written or replaced
while it is copied (its size, modification time or inode changed) is refused, as is one
that is not complete by the mapping's `complete_when` rule: a marker file the vendor
writes after the export (with the row count, when it gives one), or a size and time
unchanged for `stable_seconds`. Refusals say so, and the task's retry reads the file
again.
"""

from __future__ import annotations

import hashlib
import re
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path

from extractors.mapping import Completion

COMPLETE_RULE = "complete_delivery"
# (rule, detail) -> the error that stops the batch (deliveries._fail, bound to the batch).
Refuse = Callable[[str, str], Exception]


@contextmanager
def read_once(
    path: Path,
    landing_dir: Path,
    day: date,
    completion: Completion | None,
    refuse: Refuse,
    sleep: Callable[[float], None] = time.sleep,
) -> Iterator[tuple[Path, str, int | None]]:
    """(the private copy of `path`, under its own name; its sha256; the row count the
    vendor's marker gives, or None) once `path` is complete; the copy is removed after."""
    expected = _marker_count(path, landing_dir, day, completion, refuse)
    if completion is not None and completion.stable_seconds:
        _wait_until_stable(path, completion.stable_seconds, refuse, sleep)
    before = path.stat()
    with tempfile.TemporaryDirectory(prefix="ccp-delivery-") as folder:
        copy = Path(folder) / path.name
        digest = hashlib.sha256()
        size = 0
        with path.open("rb") as source, copy.open("wb") as target:
            for block in iter(lambda: source.read(1 << 20), b""):
                digest.update(block)
                target.write(block)
                size += len(block)
        after = path.stat()
        if _identity(before) != _identity(after) or size != after.st_size:
            raise refuse(
                COMPLETE_RULE,
                f"{path.name} changed while it was read ({before.st_size} bytes, then"
                f" {after.st_size}): it is still being written or was replaced; nothing of"
                " it was landed, and the task's retry reads it again",
            )
        yield copy, digest.hexdigest(), expected


def _identity(stat) -> tuple:
    return (stat.st_ino, stat.st_size, stat.st_mtime_ns)


def _wait_until_stable(path: Path, seconds: int, refuse: Refuse, sleep) -> None:
    """Wait (at most `seconds`, once) until the file was last changed `seconds` ago."""
    stat = path.stat()
    quiet = time.time() - stat.st_mtime
    if quiet >= seconds:
        return
    sleep(seconds - quiet)
    again = path.stat()
    if _identity(again) != _identity(stat) or time.time() - again.st_mtime < seconds:
        raise refuse(
            COMPLETE_RULE,
            f"{path.name} is still being written: it changed in the last {seconds} s"
            " (complete_when.stable_seconds); the task's retry reads it again",
        )


def _marker_count(
    path: Path, landing_dir: Path, day: date, completion: Completion | None, refuse: Refuse
) -> int | None:
    if completion is None or completion.marker is None:
        return None
    marker = landing_dir / day.strftime(completion.marker).replace("{file}", path.name)
    if not marker.is_file():
        raise refuse(
            COMPLETE_RULE,
            f"{path.name} is not complete yet: its marker {marker.name} is missing"
            " (complete_when.marker); the task's retry looks again",
        )
    if not completion.marker_row_count:
        return None
    text = marker.read_text(encoding="utf-8", errors="replace")
    found = re.search(r"\d+", text)
    if found is None:
        raise refuse(
            COMPLETE_RULE,
            f"marker {marker.name} holds no row count (complete_when.marker_row_count): {text!r}",
        )
    return int(found.group())


def require_row_count(name: str, read: int, expected: int | None, refuse: Refuse) -> None:
    """The records read from a file are as many as its marker says."""
    if expected is not None and read != expected:
        raise refuse(
            COMPLETE_RULE,
            f"{name} holds {read} records but its marker says {expected}: a truncated or"
            " mixed delivery; nothing of it was landed",
        )
