"""Arrays saved beside a generation read back as views of one mapping (saved_arrays.py): every
dtype the columns and the autocomplete index use, headers read without Python's parser (so that
a background thread reading them cannot break a parse in another thread on CPython 3.11), and
anything but a plain stored array refused with ValueError."""

from __future__ import annotations

import ast
import gc
import sys
import threading
import time
import zipfile

import numpy as np
import pytest

from searchsvc.engine.whoosh_engine.saved_arrays import array_header, mapped_arrays

ARRAYS = {
    "ords": np.array([3, 0, 2**40, -1], dtype=np.int64),
    "ranks": np.arange(7, dtype=np.int32),
    "bytes": np.frombuffer("Élysée".encode(), dtype=np.uint8),
    "lengths": np.array([1.5, 0.25], dtype=np.float32),
    "big_endian": np.array([1, 258], dtype=">u2"),
    "flags": np.array([True, False, True]),
    "table": np.arange(12, dtype=np.int64).reshape(3, 4),
    "empty": np.zeros(0, dtype=np.int64),
    "scalar": np.array(5, dtype=np.int64),
}


def _saved(path, **arrays):
    with open(path, "wb") as out:
        np.savez(out, **arrays)
    return path


def test_every_saved_array_reads_back_equal_with_its_dtype_and_shape_and_read_only(tmp_path):
    arrays = mapped_arrays(_saved(tmp_path / "a.npz", **ARRAYS))

    assert sorted(arrays) == sorted(ARRAYS)
    for name, expected in ARRAYS.items():
        assert arrays[name].dtype == expected.dtype, name
        assert arrays[name].shape == expected.shape, name
        assert np.array_equal(arrays[name], expected), name
        assert not arrays[name].flags.writeable, name


def test_saved_arrays_are_read_without_pythons_parser(tmp_path, monkeypatch):
    path = _saved(tmp_path / "a.npz", **ARRAYS)
    parsed: list[str] = []
    parse = ast.parse

    def recording_parse(source, *args, **kwargs):
        parsed.append(source)
        return parse(source, *args, **kwargs)

    monkeypatch.setattr(ast, "parse", recording_parse)
    table = mapped_arrays(path)["table"]
    monkeypatch.undo()

    assert np.array_equal(table, ARRAYS["table"])
    assert parsed == []


def test_reading_saved_arrays_in_a_thread_never_breaks_a_parse_in_another(tmp_path):
    # CPython 3.11's AST constructor counts its recursion in state every thread shares: numpy's
    # header reading (ast.literal_eval) in one thread failed ast.parse in another with
    # "SystemError: AST constructor recursion depth mismatch" many times a second here, the
    # threads switching often and the garbage collector running Python code mid-parse.
    path = _saved(tmp_path / "a.npz", **ARRAYS)
    source = "\n".join(f"x{i} = self._converters['fmt'].to_url(a[{i}], b, c)" for i in range(300))
    stop = threading.Event()
    read_errors: list[BaseException] = []

    def read_until_stopped():
        try:
            while not stop.is_set():
                mapped_arrays(path)
        except BaseException as exc:  # noqa: BLE001 - reported below
            read_errors.append(exc)

    def in_the_collector(phase, info):
        return sum(range(50))

    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    gc.callbacks.append(in_the_collector)
    reader = threading.Thread(target=read_until_stopped)
    reader.start()
    parse_errors = 0
    try:
        until = time.monotonic() + 1.5
        while time.monotonic() < until:
            try:
                ast.parse(source)
            except SystemError:
                parse_errors += 1
    finally:
        stop.set()
        reader.join()
        gc.callbacks.remove(in_the_collector)
        sys.setswitchinterval(interval)

    assert (parse_errors, read_errors) == (0, [])


def test_a_compressed_member_is_refused(tmp_path):
    path = tmp_path / "a.npz"
    with open(path, "wb") as out:
        np.savez_compressed(out, ords=ARRAYS["ords"])

    with pytest.raises(ValueError, match="ords.npy is not a stored array"):
        mapped_arrays(path)


def test_an_array_of_python_objects_is_refused(tmp_path):
    path = _saved(tmp_path / "a.npz", names=np.array(["a", None], dtype=object))

    with pytest.raises(ValueError, match="an array of Python objects"):
        mapped_arrays(path)


def test_a_fortran_ordered_array_is_refused(tmp_path):
    path = _saved(tmp_path / "a.npz", table=np.asfortranarray(ARRAYS["table"]))

    with pytest.raises(ValueError, match="a Fortran-ordered array"):
        mapped_arrays(path)


def test_a_member_cut_short_is_refused(tmp_path):
    path = _saved(tmp_path / "a.npz", ords=ARRAYS["ords"])
    with zipfile.ZipFile(path) as archive:
        member = archive.read("ords.npy")
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("ords.npy", member[:-8])

    with pytest.raises(ValueError, match="ords.npy is truncated"):
        mapped_arrays(path)


def _npy(header: bytes) -> bytes:
    """An .npy array of format version 1 with this header (its length filled in)."""
    return b"\x93NUMPY\x01\x00" + len(header).to_bytes(2, "little") + header + b"\x00" * 24


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"\x93NUMPY\x01\x00", "not an .npy array of format version 1, 2 or 3"),
        (b"PK\x03\x04" + b"\x00" * 20, "not an .npy array of format version 1, 2 or 3"),
        (b"\x93NUMPY\x01\x00\xff\x00{'descr': '<i8'", "the .npy header is cut short"),
        (_npy(b"{'shape': (3,)}\n"), "not a plain array's .npy header"),
        (_npy(b"{'descr': 'x9', 'fortran_order': False, 'shape': (3,), }\n"), "not a plain array's .npy header"),
        (_npy(b"{'descr': '<i8', 'fortran_order': False, 'shape': (3,a), }\n"), "not a plain array's .npy header"),
        (_npy(b"{'descr': [('a', '<i8')], 'fortran_order': False, 'shape': (3,), }\n"), "not a plain array's"),
    ],
)
def test_a_header_that_is_not_a_plain_arrays_is_refused_with_the_reason(data, message):
    with pytest.raises(ValueError, match=message):
        array_header(data)


def test_a_header_of_format_version_2_gives_its_shape_dtype_and_length():
    header = b"{'descr': '<f4', 'fortran_order': False, 'shape': (2, 5), }".ljust(63) + b"\n"
    data = b"\x93NUMPY\x02\x00" + len(header).to_bytes(4, "little") + header + b"\x00" * 40

    assert array_header(data) == ((2, 5), np.dtype("<f4"), 12 + 64)
