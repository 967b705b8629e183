"""Finding the article files below the source folders: sorted, hidden entries skipped, each folder
walked once (no symlink loops), links that leave the sources not followed, and every folder that
cannot be read or name that is not UTF-8 reported instead of silently left out."""

from __future__ import annotations

import operator
import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from searchsvc.report import DocumentFailure

ARTICLE_SUFFIXES = frozenset({".md", ".markdown", ".txt"})
_NAME = operator.attrgetter("name")


@dataclass
class SourceScan:
    """What a walk of the sources found."""

    # (path as found, e.g. 'news/a.md' or '/srv/news/a.md'; id of an article without a URL, 'news/a.md')
    files: list[tuple[str, str]] = field(default_factory=list)
    failures: list[DocumentFailure] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    # folders that could not be listed (as found, ending in '/'): what was indexed from them is kept
    unreadable: list[str] = field(default_factory=list)


def shown_path(path: str) -> str:
    """A path as printed: bytes that are not UTF-8 escaped (``caf\\xe9.md``)."""
    try:
        path.encode("utf-8")
        return path
    except UnicodeEncodeError:
        return os.fsencode(path).decode("utf-8", "backslashreplace")


def _is_utf8(name: str) -> bool:
    return name.isascii() or shown_path(name) == name


def _id_root(root: str) -> str:
    """The id prefix of the files below ``root``: the path as given when it is relative (ids stay
    as they were), else the folder's own name, so that ``/srv/news`` gives ``news/a.md``, as
    ``news`` does, never an id (and a link) holding the absolute path."""
    norm = os.path.normpath(root)
    if not os.path.isabs(norm) and norm != os.pardir and not norm.startswith(os.pardir + os.sep):
        return "" if norm == os.curdir else norm
    return os.path.basename(os.path.abspath(norm))


def iter_article_files(roots: Iterable[str | os.PathLike[str]]) -> Iterator[str]:
    """The article files ``scan_sources`` finds, as strings."""
    for path, _ in scan_sources(roots).files:
        yield path


def scan_sources(roots: Iterable[str | os.PathLike[str]], follow_external_links: bool = False) -> SourceScan:
    """Article files below each root (a folder or a file), in sorted order, depth first."""
    scan = SourceScan()
    roots = [os.fspath(root) for root in roots]
    inside = tuple(_with_sep(os.path.realpath(root)) for root in roots if os.path.isdir(root))
    seen_dirs: set[tuple[int, int]] = set()
    for root in roots:
        if not _is_utf8(root):
            scan.failures.append(DocumentFailure(shown_path(root), "source name is not UTF-8; rename it to index it"))
        elif os.path.isfile(root):
            if os.path.splitext(root)[1].lower() in ARTICLE_SUFFIXES:
                scan.files.append((root, _id_root(root)))
        elif os.path.isdir(root):
            _walk(scan, root, _id_root(root), seen_dirs, None if follow_external_links else inside)
    return scan


def _with_sep(folder: str) -> str:
    return folder if folder.endswith(os.sep) else folder + os.sep


def _walk(scan: SourceScan, root: str, id_root: str, seen_dirs: set, inside: tuple[str, ...] | None) -> None:
    """Depth first with an explicit stack (a deep tree cannot exhaust Python's recursion limit)."""
    first = _list_folder(scan, root, seen_dirs)
    stack = [(iter(first), id_root)] if first is not None else []
    while stack:
        entries, id_folder = stack[-1]
        entry = next(entries, None)
        if entry is None:
            stack.pop()
            continue
        name = entry.name
        if name[0] == ".":
            continue
        try:
            is_dir = entry.is_dir()
            if not is_dir:  # (the suffix test inlined: it runs once per entry of the tree)
                dot = name.rfind(".")
                if dot <= 0 or name[dot:].lower() not in ARTICLE_SUFFIXES or not entry.is_file():
                    continue
            if not (name.isascii() or _is_utf8(name)):
                what = "folder name is not UTF-8; its files are" if is_dir else "file name is not UTF-8; it is"
                reason = f"{what} skipped. Rename it (e.g. with convmv) to index it"
                scan.failures.append(DocumentFailure(shown_path(entry.path), reason))
                continue
            if inside is not None and entry.is_symlink():
                target = os.path.realpath(entry.path)
                if not _with_sep(target).startswith(inside):
                    scan.warnings.append(
                        f"{entry.path}: a link to {shown_path(target)}, outside the source folders; not followed "
                        "(set follow_external_links = true to follow such links)"
                    )
                    continue
        except OSError:
            continue  # vanished, or a link that cannot be resolved (a loop, a dangling link)
        child_id = f"{id_folder}/{name}" if id_folder else name
        if not is_dir:
            scan.files.append((entry.path, child_id))
            continue
        listed = _list_folder(scan, entry.path, seen_dirs)
        if listed is not None:
            stack.append((iter(listed), child_id))


def _list_folder(scan: SourceScan, folder: str, seen_dirs: set) -> list[os.DirEntry] | None:
    """The sorted entries of a folder not walked before; a folder that cannot be read is reported."""
    try:
        info = os.stat(folder)
        key = (info.st_dev, info.st_ino)
        if key in seen_dirs:
            return None
        seen_dirs.add(key)
        with os.scandir(folder) as entries:
            return sorted(entries, key=_NAME)
    except OSError as exc:
        reason = (
            f"cannot read folder ({exc.strerror or exc}); its files were skipped, and an update keeps what was "
            "indexed from them before. Make it readable and index again"
        )
        scan.failures.append(DocumentFailure(_with_sep(shown_path(folder)), reason))
        scan.unreadable.append(_with_sep(folder))
        return None
