"""Secrets generated once per checkout and kept in files of their own, readable by their
owner only (mode 0600): the personal-data hashing key, the embedded server's passwords."""

from __future__ import annotations

import os
import secrets
from pathlib import Path


def read_or_create(path: Path) -> str:
    """The secret kept in `path`; a random one is written first if there is none.

    The file is 0600 from its first byte (never world-readable, even for a moment), and a
    concurrent first call cannot see it half-written or write a second secret: the secret
    is written to a file of this process's own, then linked into place, which fails if
    another process got there first (its secret is then the one read)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists():
        draft = path.with_name(f".{path.name}.{os.getpid()}")
        descriptor = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "w") as file:
            file.write(secrets.token_hex(32))
        try:
            os.link(draft, path)
        except FileExistsError:
            pass
        finally:
            draft.unlink()
    if path.stat().st_mode & 0o077:
        path.chmod(0o600)  # a file made by hand (or by an older version) with looser rights
    return path.read_text().strip()
