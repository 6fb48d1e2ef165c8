"""Photos for the upload tests, made with Pillow: a phone-like JPEG with GPS EXIF and a
rotation flag, PNGs with text chunks, and decompression bombs built by hand."""

from __future__ import annotations

import struct
import zlib
from io import BytesIO

from PIL import ExifTags, Image, PngImagePlugin

# Where the photo was "taken" (Tiananmen, in degrees, minutes, seconds) and by what: none of it
# may survive into a stored file.
GPS_LATITUDE = (39.0, 54.0, 27.0)
GPS_LONGITUDE = (116.0, 23.0, 30.0)
CAMERA_MAKE = "SpyCam Optics"
CAMERA_MODEL = "Pocket-X1000"
COMMENT = b"taken at the home of 13812345678"
BLUE, RED = (0, 0, 255), (255, 0, 0)


def phone_jpeg() -> bytes:
    """A 40x20 JPEG, left half blue, with GPS, camera make/model, a comment and EXIF
    Orientation 6 (the camera was turned: shown upright it is 20x40, blue on top)."""
    image = Image.new("RGB", (40, 20), RED)
    image.paste(BLUE, (0, 0, 20, 20))
    exif = Image.Exif()
    exif[ExifTags.Base.Orientation] = 6
    exif[ExifTags.Base.Make] = CAMERA_MAKE
    exif[ExifTags.Base.Model] = CAMERA_MODEL
    exif[ExifTags.Base.DateTime] = "2026:03:01 10:15:00"
    gps = exif.get_ifd(ExifTags.IFD.GPSInfo)
    gps[ExifTags.GPS.GPSLatitudeRef] = "N"
    gps[ExifTags.GPS.GPSLatitude] = GPS_LATITUDE
    gps[ExifTags.GPS.GPSLongitudeRef] = "E"
    gps[ExifTags.GPS.GPSLongitude] = GPS_LONGITUDE
    out = BytesIO()
    image.save(out, "JPEG", exif=exif, comment=COMMENT)
    return out.getvalue()


def png_with_text(colour: tuple[int, int, int] = (30, 120, 60)) -> bytes:
    """A small PNG carrying tEXt and eXIf chunks (an author's name and GPS)."""
    info = PngImagePlugin.PngInfo()
    info.add_text("Author", "张秀英 13812345678")  # not Latin-1: an iTXt chunk
    info.add_text("Location", "GPS 39.9075N 116.3972E")  # a tEXt chunk
    exif = Image.Exif()
    exif[ExifTags.Base.Make] = CAMERA_MAKE
    exif.get_ifd(ExifTags.IFD.GPSInfo)[ExifTags.GPS.GPSLatitude] = GPS_LATITUDE
    out = BytesIO()
    Image.new("RGB", (12, 8), colour).save(out, "PNG", pnginfo=info, exif=exif)
    return out.getvalue()


def solid(fmt: str, colour: tuple[int, int, int], size: tuple[int, int] = (8, 8)) -> bytes:
    """A plain picture of one colour as Pillow writes it (re-encoding gives the same bytes)."""
    out = BytesIO()
    options = {"quality": 90} if fmt == "JPEG" else {}
    Image.new("RGB", size, colour).save(out, fmt, **options)
    return out.getvalue()


def png_bomb(width: int, height: int) -> bytes:
    """A tiny PNG whose header claims width x height black-and-white pixels (all zero rows
    compress to almost nothing): opening it in full would need width*height/8 bytes and more."""
    squeeze = zlib.compressobj(9)
    row = b"\x00" + bytes((width + 7) // 8)
    body = b"".join(squeeze.compress(row) for _ in range(height)) + squeeze.flush()
    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", header) + _chunk(b"IDAT", body) + _chunk(b"IEND")


def jpeg_claiming(width: int, height: int) -> bytes:
    """A real 8x8 JPEG whose frame header is rewritten to claim another size."""
    content = bytearray(solid("JPEG", (90, 90, 90)))
    sof = content.index(b"\xff\xc0")  # baseline frame: marker, length, precision, height, width
    content[sof + 5 : sof + 9] = struct.pack(">HH", height, width)
    return bytes(content)


def _chunk(kind: bytes, data: bytes = b"") -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def opened(content: bytes) -> Image.Image:
    """A stored file opened for inspection (loaded, so its metadata is all read)."""
    image = Image.open(BytesIO(content))
    image.load()
    return image
