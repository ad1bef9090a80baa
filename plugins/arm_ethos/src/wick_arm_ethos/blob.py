"""The delegate blob: what the AOT half hands the runtime half.

Layout (little endian, sections 16-byte aligned)::

    0   char[8]  "WICKAEU1"            magic + format version
    8   u32      JSON metadata length   (UTF-8)
    12  u32      TOSA flatbuffer length
    16  u32      Vela raw output length (0: not compiled, e.g. a float graph)
    20  u32      reserved (0)
    24  ...      JSON, padded to 16; TOSA flatbuffer, padded to 16; Vela .npz

The JSON block is self-describing on purpose, so that a tool that knows only
this header (``wick inspect``, a conformance report) can show what the blob
holds: TOSA profile and operators, the accelerator and Vela's estimates
(cycles, SRAM / flash use), the graph's input and output layout.

The TOSA flatbuffer is what the host runs on the reference model. The Vela
section is Vela's ``--output-format=raw`` file: command stream, encoded
weights, scratch sizes, input/output offsets — what an Ethos-U driver on a
device (or a Corstone FVP) consumes.
"""

from __future__ import annotations

import json
import struct
from typing import Any

MAGIC = b"WICKAEU1"
_HEADER = struct.Struct("<8sIIII")
_ALIGN = 16


def _pad(data: bytes) -> bytes:
    return data + b"\0" * (-len(data) % _ALIGN)


def pack(meta: dict[str, Any], tosa: bytes, vela: bytes = b"") -> bytes:
    js = json.dumps(meta, sort_keys=True).encode()
    head = _HEADER.pack(MAGIC, len(js), len(tosa), len(vela), 0)
    body = _pad(head + js) + _pad(tosa) + vela
    return body


def unpack(blob: bytes | memoryview) -> tuple[dict[str, Any], memoryview, memoryview]:
    """(metadata, TOSA flatbuffer, Vela raw output); raises ValueError on a
    blob that is not this format or is truncated."""
    view = memoryview(blob)
    if len(view) < _HEADER.size:
        raise ValueError(f"Ethos-U blob too short ({len(view)} bytes)")
    magic, jlen, tlen, vlen, _ = _HEADER.unpack_from(view, 0)
    if magic != MAGIC:
        raise ValueError(f"not a wick-arm-ethos blob (magic {bytes(magic)!r}, expected {MAGIC!r})")
    joff = _HEADER.size
    toff = joff + jlen + (-(joff + jlen) % _ALIGN)
    voff = toff + tlen + (-tlen % _ALIGN)
    if voff + vlen > len(view) or toff > len(view):
        raise ValueError(f"Ethos-U blob truncated: sections need {voff + vlen} bytes, blob has {len(view)}")
    meta = json.loads(bytes(view[joff:joff + jlen]).decode())
    return meta, view[toff:toff + tlen], view[voff:voff + vlen]


def describe(blob: bytes | memoryview) -> dict[str, Any]:
    """The metadata block, for inspection tools."""
    return unpack(blob)[0]
