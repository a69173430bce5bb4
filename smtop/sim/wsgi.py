"""Small WSGI and wire-format helpers shared by the simulator's middlewares."""

from __future__ import annotations

import io
import re
import zlib

SIGV4_CREDENTIAL = re.compile(r"Credential=(?P<key>[^/,\s]+)/\d{8}/(?P<region>[^/,]+)/(?P<service>[^/,]+)/aws4_request")
"""The credential scope of a SigV4 ``Authorization`` header: key id, region, signing name."""


def signing_key(authorization: str) -> str | None:
    """The access key id a SigV4 ``Authorization`` header was signed with."""
    scope = SIGV4_CREDENTIAL.search(authorization)
    return scope["key"] if scope else None


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


def event_stream_message(headers: dict[str, str], payload: bytes) -> bytes:
    """One message of AWS's event-stream framing (``application/vnd.amazon.eventstream``).

    Total length, headers length and a CRC32 of those two (the prelude), the
    headers (name length, name, type 7 = string, value length, value), the
    payload, and a CRC32 of everything before it; all integers big-endian.
    """
    encoded = b""
    for name, value in headers.items():
        key, text = name.encode(), value.encode()
        encoded += bytes([len(key)]) + key + b"\x07" + len(text).to_bytes(2, "big") + text
    prelude = (12 + len(encoded) + len(payload) + 4).to_bytes(4, "big") + len(encoded).to_bytes(4, "big")
    prelude += zlib.crc32(prelude).to_bytes(4, "big")
    message = prelude + encoded + payload
    return message + zlib.crc32(message).to_bytes(4, "big")
