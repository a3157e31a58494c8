"""The generated HMAC secret: created once, mode 0600, refused if others can read it."""

from __future__ import annotations

import os
import secrets
import stat
from pathlib import Path

__all__ = ["read_or_create_secret", "SECRET_BYTES"]

SECRET_BYTES = 48  # 64 URL-safe characters, above the 32-byte minimum


def read_or_create_secret(path: str | os.PathLike[str]) -> str:
    """The secret stored at ``path``, generating it (mode 0600) on first use.

    :raises PermissionError: when an existing file is readable by group or others.
    """
    path = Path(path)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        if stat.S_IMODE(path.stat().st_mode) & 0o077:
            raise PermissionError(
                f"{path} is readable by other users; chmod 600 it"
            ) from None
        return path.read_text().strip()
    with os.fdopen(fd, "w") as f:
        f.write(secrets.token_urlsafe(SECRET_BYTES))
    return path.read_text().strip()
