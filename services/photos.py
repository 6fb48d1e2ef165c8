"""Inspection photos: decoded and re-encoded so no EXIF, GPS or other metadata is kept, size and
pixel limits enforced, stored outside the static folder under the SHA-256 of what is kept."""

from __future__ import annotations

import hashlib
import warnings
from dataclasses import dataclass
from io import BytesIO
from pathlib import Path

from PIL import Image, ImageOps

from services.errors import ServiceError

# What the decoder found (never the file name or the browser-sent type) decides what a file is;
# MPO is the multi-picture JPEG some phones write: its first picture is kept, as a JPEG.
_KINDS = {"JPEG": ("image/jpeg", "jpg"), "MPO": ("image/jpeg", "jpg"), "PNG": ("image/png", "png")}
# Any camera photo that fits the byte limit fits (24 megapixels is a 6000x4000 frame); a
# "decompression bomb" (a small file claiming a huge picture) is refused from its header,
# before a pixel is decoded. Decoding and turning upright hold about 6 bytes a pixel at once.
MAX_PIXELS = 30_000_000
JPEG_QUALITY = 90
# Only what the pixels need to look right survives re-encoding: the colour profile and PNG
# transparency. Everything else (EXIF with GPS and camera, XMP, comments, text chunks) is dropped.
_KEPT_INFO = ("icc_profile", "transparency")


class InvalidPhoto(ServiceError):
    """An upload is not a JPEG or PNG, is empty, is too large or has too many pixels."""

    code = "invalid_photo"

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class CleanPhoto:
    """A photo as it will be kept: re-encoded bytes and what the decoder said they are."""

    content: bytes
    media_type: str
    ext: str

    @property
    def sha256(self) -> str:
        """The name the file is kept under and the hash events record."""
        return hashlib.sha256(self.content).hexdigest()


class PhotoStore:
    """Keeps photo files; events record only the SHA-256 and type of the kept (clean) file."""

    def __init__(self, folder: Path, max_bytes: int, max_pixels: int = MAX_PIXELS) -> None:
        self._folder = folder
        self.max_bytes = max_bytes
        self.max_pixels = max_pixels

    def prepare(self, content: bytes) -> CleanPhoto:
        """Decode, turn upright and re-encode an upload; raises InvalidPhoto if it is not one."""
        if not content:
            raise InvalidPhoto("empty")
        if len(content) > self.max_bytes:
            raise InvalidPhoto("too_large")
        try:
            with warnings.catch_warnings():
                # Pillow's own bomb guard only warns below twice its limit: make it refuse.
                warnings.simplefilter("error", Image.DecompressionBombWarning)
                return self._clean(content)
        except InvalidPhoto:
            raise
        except (Image.DecompressionBombError, Image.DecompressionBombWarning):
            raise InvalidPhoto("too_many_pixels") from None
        except Exception:  # any decoder failure on hostile bytes means "not a photo"
            raise InvalidPhoto("type") from None

    def check(self, content: bytes) -> tuple[str, str]:
        """(media type, extension) of an acceptable photo; raises InvalidPhoto otherwise."""
        photo = self.prepare(content)
        return photo.media_type, photo.ext

    def keep(self, photo: CleanPhoto) -> dict[str, str]:
        """Write a prepared photo once (content-addressed); returns what the event records."""
        digest = photo.sha256
        self._folder.mkdir(parents=True, exist_ok=True)
        path = self._folder / f"{digest}.{photo.ext}"
        if not path.exists():
            tmp = path.with_suffix(".part")
            tmp.write_bytes(photo.content)
            tmp.replace(path)  # atomic: a crash never leaves half a photo under its hash
        return {"sha256": digest, "media_type": photo.media_type}

    def store(self, content: bytes) -> dict[str, str]:
        """Prepare and keep an upload; the recorded hash is that of the re-encoded file."""
        return self.keep(self.prepare(content))

    def path_for(self, sha256: str) -> Path | None:
        """Where a stored photo is, for serving it to those allowed to see the case."""
        if len(sha256) != 64 or not all(c in "0123456789abcdef" for c in sha256):
            return None
        return next(iter(self._folder.glob(f"{sha256}.*")), None)

    def _clean(self, content: bytes) -> CleanPhoto:
        """Only the JPEG and PNG decoders are ever tried; the header's size is checked first."""
        with Image.open(BytesIO(content), formats=("JPEG", "PNG")) as image:
            if image.width * image.height > self.max_pixels:
                raise InvalidPhoto("too_many_pixels")
            media_type, ext = _KINDS[image.format or ""]
            upright = ImageOps.exif_transpose(image)  # a loaded copy, orientation applied
        return CleanPhoto(_encode(upright, ext), media_type, ext)


def _encode(image: Image.Image, ext: str) -> bytes:
    """The pixels in a fresh file of the same kind, with none of the source's metadata."""
    image.info = {k: v for k, v in image.info.items() if k in _KEPT_INFO}
    out = BytesIO()
    if ext == "jpg":
        if image.mode not in ("L", "RGB", "CMYK"):
            image = image.convert("RGB")
        icc = image.info.get("icc_profile")
        image.save(out, "JPEG", quality=JPEG_QUALITY, **({"icc_profile": icc} if icc else {}))
    else:
        image.save(out, "PNG")
    return out.getvalue()
