"""The chunked line scan (clm.ingest.readers._stream_lines) against a plain-Python reading of the rules.

The rules, from the module docstring: lines end with LF (a CR before it belongs to the line, "CRLF"), or with
CR alone when the file holds no LF at all; a final line break opens no further line; a line is blank when it
is empty or a lone CR. The scan reads the file in chunks, so the chunk size is set to a few bytes here to put
line breaks, CRLF pairs and final bytes on every side of a chunk boundary.
"""

from __future__ import annotations

import hashlib
import random
from pathlib import Path

import numpy as np
import pytest

from clm.ingest import readers


def _oracle(data: bytes) -> tuple[list[int], list[int], list[bool], bool, list[int]]:
    """(starts, lengths, blank, cr_only, positions of the CRs of CRLF endings when LF and CRLF mix)."""
    cr_only = b"\n" not in data and b"\r" in data
    sep = b"\r" if cr_only else b"\n"
    starts, lengths, blank, crlf_crs, breaks = [], [], [], [], 0
    pos = 0
    while pos < len(data):
        end = data.find(sep, pos)
        stop = len(data) if end < 0 else end
        line = data[pos:stop]
        starts.append(pos)
        lengths.append(len(line))
        blank.append(line in (b"", b"\r"))
        if end >= 0:
            breaks += 1
            if not cr_only and line.endswith(b"\r"):
                crlf_crs.append(end - 1)
        pos = stop + 1 if end >= 0 else len(data)
    mixed = crlf_crs if 0 < len(crlf_crs) < breaks else []
    return starts, lengths, blank, cr_only, mixed


@pytest.mark.parametrize("chunk", [1, 2, 3, 7])
def test_the_chunked_scan_finds_every_line_as_the_rules_say(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, chunk: int
) -> None:
    monkeypatch.setattr(readers, "_CHUNK", chunk)
    rng = random.Random(chunk)
    pieces = [b"a", b"\n", b"\r", b"\r\n", b"xy", b""]
    for trial in range(400):
        data = b"".join(rng.choice(pieces) for _ in range(rng.randint(1, 30)))
        if trial % 5 == 0:
            data = data.replace(b"\n", b"")  # CR-only (or no break at all)
        if not data:
            continue
        path = tmp_path / f"f{trial}"
        path.write_bytes(data)
        sha = hashlib.sha256()
        lines = readers._stream_lines(path, sha)
        starts, lengths, blank, cr_only, mixed = _oracle(data)
        assert sha.hexdigest() == hashlib.sha256(data).hexdigest()
        assert lines.starts.tolist() == starts, data
        assert lines.lengths.tolist() == lengths, data
        assert lines.blank.tolist() == blank, data
        assert lines.cr_only == cr_only, data
        assert lines.mixed_crs.tolist() == mixed, data


def test_a_known_file(tmp_path: Path) -> None:
    # By hand: "ab\r\n" (line 1, 3 bytes with its CR), "\n" (line 2, empty), "\r\n" (line 3, a lone CR),
    # "c" (line 4, no final break). Every break but line 2's is CRLF: mixed, so their CRs are listed.
    path = tmp_path / "f"
    path.write_bytes(b"ab\r\n\n\r\nc")
    lines = readers._stream_lines(path)
    assert lines.starts.tolist() == [0, 4, 5, 7]
    assert lines.lengths.tolist() == [3, 0, 1, 1]
    assert lines.blank.tolist() == [False, True, True, False]
    assert lines.mixed_crs.tolist() == [2, 5]
    assert not lines.cr_only
    assert isinstance(lines.starts, np.ndarray)
