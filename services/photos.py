"""Inspection photos: type and size checked, stored outside the static folder by content hash."""

from __future__ import annotations

import hashlib
from pathlib import Path

from services.errors import ServiceError

# Magic numbers, not file names or browser-sent types, decide what a file is.
_SIGNATURES = {b"\xff\xd8\xff": ("image/jpeg", "jpg"), b"\x89PNG\r\n\x1a\n": ("image/png", "png")}


class InvalidPhoto(ServiceError):
    """An upload is not a JPEG or PNG, is empty, or is too large."""

    code = "invalid_photo"

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class PhotoStore:
    """Keeps photo files; events record only their SHA-256 and type."""

    def __init__(self, folder: Path, max_bytes: int) -> None:
        self._folder = folder
        self.max_bytes = max_bytes

    def check(self, content: bytes) -> tuple[str, str]:
        """(media type, extension) of an acceptable photo; raises InvalidPhoto otherwise."""
        if not content:
            raise InvalidPhoto("empty")
        if len(content) > self.max_bytes:
            raise InvalidPhoto("too_large")
        for magic, kind in _SIGNATURES.items():
            if content.startswith(magic):
                return kind
        raise InvalidPhoto("type")

    def store(self, content: bytes) -> dict[str, str]:
        """Write the photo once (content-addressed); returns what the event records."""
        media_type, ext = self.check(content)
        digest = hashlib.sha256(content).hexdigest()
        self._folder.mkdir(parents=True, exist_ok=True)
        path = self._folder / f"{digest}.{ext}"
        if not path.exists():
            tmp = path.with_suffix(".part")
            tmp.write_bytes(content)
            tmp.replace(path)  # atomic: a crash never leaves half a photo under its hash
        return {"sha256": digest, "media_type": media_type}

    def path_for(self, sha256: str) -> Path | None:
        """Where a stored photo is, for serving it to those allowed to see the case."""
        if len(sha256) != 64 or not all(c in "0123456789abcdef" for c in sha256):
            return None
        return next(iter(self._folder.glob(f"{sha256}.*")), None)
