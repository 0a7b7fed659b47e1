"""`GET /avatar/<user id>.png`: each user's identicon, made here from the user id alone.

It replaces the Gravatar URL, which put `md5(address)` in every page, API answer and follow mail:
a hash anyone could match against a list of addresses. The picture is a symmetric 5 by 5 pattern in
one colour on a light tint of it, both drawn from SHA-256 of the id, so it is the same wherever it is shown and says
nothing about the address. PNG, because mail clients show it (many refuse SVG).
"""

from __future__ import annotations

import colorsys
import hashlib
import struct
import zlib

from flask import Blueprint, Response, request

from social.extensions import csrf, limiter

bp = Blueprint("avatars", __name__)
csrf.exempt(bp)
limiter.exempt(bp)

GRID = 5
SIZES = (16, 512)
DEFAULT_SIZE = 128


@bp.get("/avatar/<int:user_id>.png")
def avatar(user_id: int) -> Response:
    size = min(max(request.args.get("s", DEFAULT_SIZE, type=int), SIZES[0]), SIZES[1])
    response = Response(identicon_png(user_id, size), mimetype="image/png")
    response.headers["Cache-Control"] = "public, max-age=86400"
    return response


def identicon_png(user_id: int, size: int) -> bytes:
    """The identicon of `user_id` as a PNG `size` pixels square."""
    digest = hashlib.sha256(f"microblog avatar {user_id}".encode()).digest()
    # A hue of its own from the hash; saturation and lightness fixed, so every colour is clear on the
    # light tint behind it and no two avatars differ only in muddiness.
    red, green, blue = colorsys.hls_to_rgb(digest[0] / 256, 0.46, 0.62)
    colour = (round(red * 255), round(green * 255), round(blue * 255))
    background = tuple(round(255 - (255 - part) * 0.14) for part in colour)
    # Left three columns from the hash, mirrored onto the right two.
    cells = [[bool(digest[3 + row * 3 + min(col, GRID - 1 - col)] & 1) for col in range(GRID)] for row in range(GRID)]
    margin = size // 10
    cell = max(1, (size - 2 * margin) // GRID)
    background_bytes, ink = bytes(background), bytes(colour)

    def line(grid_y: int | None) -> bytes:
        pixels = bytearray(b"\x00")  # filter type: none
        for x in range(size):
            grid_x = (x - margin) // cell if x >= margin else -1
            on = grid_y is not None and 0 <= grid_x < GRID and cells[grid_y][grid_x]
            pixels += ink if on else background_bytes
        return bytes(pixels)

    lines = {grid_y: line(grid_y) for grid_y in (None, *range(GRID))}
    rows = [lines[(y - margin) // cell if margin <= y < margin + GRID * cell else None] for y in range(size)]
    header = struct.pack(">IIBBBBB", size, size, 8, 2, 0, 0, 0)  # 8-bit RGB
    return b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", header) + _chunk(b"IDAT", zlib.compress(b"".join(rows), 9)) \
        + _chunk(b"IEND", b"")


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
