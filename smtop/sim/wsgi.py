"""Small WSGI and wire-format helpers shared by the simulator's middlewares."""

from __future__ import annotations

import io


def read_body(environ: dict) -> bytes:
    """Read the request body and put it back, so the app behind reads it too."""
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    body = environ["wsgi.input"].read(length) if length > 0 else b""
    environ["wsgi.input"] = io.BytesIO(body)
    return body


def cbor_map(items: dict[str, str]) -> bytes:
    """A flat ``{str: str}`` as CBOR: all an AWS error body needs (RPC v2 CBOR protocol)."""

    def head(major: int, length: int) -> bytes:
        if length < 24:
            return bytes([major << 5 | length])
        if length < 256:
            return bytes([major << 5 | 24, length])
        return bytes([major << 5 | 25]) + length.to_bytes(2, "big")

    out = head(5, len(items))
    for key, value in items.items():
        for text in (key, value):
            data = text.encode()
            out += head(3, len(data)) + data
    return out
