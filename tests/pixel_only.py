# SPDX-License-Identifier: AGPL-3.0-or-later
"""What a PNG that holds pixels only looks like: header, image data, end. No tEXt/iTXt/zTXt (prompt, workflow),
eXIf, iCCP... Shared by the end-to-end tests that check what the example workflows save."""

PIXEL_ONLY_PNG_CHUNKS = {b"IHDR", b"IDAT", b"IEND"}


def png_chunk_types(data: bytes) -> list[bytes]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG file"
    types, offset = [], 8
    while offset < len(data):
        length = int.from_bytes(data[offset : offset + 4], "big")
        types.append(data[offset + 4 : offset + 8])
        offset += 12 + length  # length, type, data, CRC
    return types
