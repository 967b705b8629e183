"""Arrays saved beside a generation (column_cache's columns, completion_file's autocomplete
index), read back as read-only views of one shared mapping of their .npz: a server's workers share
its pages instead of each holding a copy.

Each member's header (a Python dict literal such as ``{'descr': '<i8', 'fortran_order': False,
'shape': (3,), }``) is read here, not by numpy: numpy reads it with ``ast.literal_eval``, and on
CPython 3.11 the parser's AST constructor keeps its recursion count in state shared by every thread,
so a parse in one thread while another thread parses too can fail either with "SystemError: AST
constructor recursion depth mismatch". These files are read in background threads (the
autocomplete index's) while other threads parse: Werkzeug compiles its URL rules with
``ast.parse``, Python 3.11 parses source lines to underline a traceback's expressions, pytest
parses each module it rewrites."""

from __future__ import annotations

import mmap
import re
import struct
import zipfile
from pathlib import Path

import numpy as np

MAGIC = b"\x93NUMPY"
MAX_HEADER_BYTES = 65536
DESCR = re.compile(r"'descr':\s*'([<>|=]?[a-zA-Z][0-9]*)'")
FORTRAN_ORDER = re.compile(r"'fortran_order':\s*(True|False)")
SHAPE = re.compile(r"'shape':\s*\(([0-9,\s]*)\)")


def mapped_arrays(path: Path) -> dict[str, np.ndarray]:
    """The arrays of an .npz written by ``np.savez`` (members stored, not compressed) as read-only
    views of one mapping of the file. ValueError when a member is not a plain stored array."""
    arrays: dict[str, np.ndarray] = {}
    with open(path, "rb") as f, zipfile.ZipFile(f) as archive:  # (the mapping outlives the file)
        mapping = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
        for info in archive.infolist():
            if info.compress_type != zipfile.ZIP_STORED or not info.filename.endswith(".npy"):
                raise ValueError(f"{path}: {info.filename} is not a stored array")
            # the member's data follows its local header: 30 bytes, its name and an extra field
            name_length, extra_length = struct.unpack("<HH", mapping[info.header_offset + 26 : info.header_offset + 30])
            start = info.header_offset + 30 + name_length + extra_length
            shape, dtype, header_bytes = array_header(mapping[start : start + min(info.file_size, MAX_HEADER_BYTES)])
            count = int(np.prod(shape, dtype=np.int64))
            offset = start + header_bytes
            if offset + count * dtype.itemsize > start + info.file_size:
                raise ValueError(f"{path}: {info.filename} is truncated")
            arrays[info.filename[: -len(".npy")]] = np.frombuffer(mapping, dtype, count, offset).reshape(shape)
    return arrays


def array_header(data: bytes) -> tuple[tuple[int, ...], np.dtype, int]:
    """The shape and dtype of the .npy array that ``data`` starts with, and the bytes its header
    takes (where the array's data starts). ValueError unless it is a plain array (a numeric or
    bytes dtype, C order) in format version 1, 2 or 3."""
    if len(data) < 10 or data[:6] != MAGIC or data[6] not in (1, 2, 3):
        raise ValueError("not an .npy array of format version 1, 2 or 3")
    if data[6] == 1:
        (length,), skip = struct.unpack("<H", data[8:10]), 10
    else:
        (length,), skip = struct.unpack("<I", data[8:12]), 12
    if skip + length > len(data):
        raise ValueError("the .npy header is cut short")
    header = data[skip : skip + length].decode("latin-1")
    descr, fortran_order, shape = DESCR.search(header), FORTRAN_ORDER.search(header), SHAPE.search(header)
    if descr is None or fortran_order is None or shape is None:
        raise ValueError(f"not a plain array's .npy header: {header.strip()[:200]!r}")
    if fortran_order.group(1) == "True":
        raise ValueError("a Fortran-ordered array")
    try:
        dims = tuple(int(part) for part in shape.group(1).split(",") if part.strip())
        dtype = np.dtype(descr.group(1))
    except (TypeError, ValueError) as exc:
        raise ValueError(f"not a plain array's .npy header: {header.strip()[:200]!r}") from exc
    if dtype.hasobject:
        raise ValueError("an array of Python objects")
    return dims, dtype, skip + length
