"""The larger corpora of scale.py: copies of a base corpus that neither the duplicate-id rule nor
the collapsing of syndicated copies folds (see scale.py and benchmarks/README.md)."""

from __future__ import annotations

import calendar
import hashlib
import json
import re
import shutil
import time
from pathlib import Path

from common import log

from searchsvc.documents import iter_article_paths

SHIFT_MONTHS = 8
COPY_VERSION = 1  # bump when the copies are made differently: old ones are then rewritten
DONOR_STRIDE = 7919  # copy k of article i takes its new words from article i + k × 7919
_WORD = re.compile(r"(?<![\\\w])[A-Za-z]{4,}(?!\w)")  # never the letters of a YAML escape (\u00e9)
_DATE = re.compile(r"^(publishedDateTime: ['\"]?)(\d{4})-(\d{2})-(\d{2})", re.M)
_URL_LINE = re.compile(r"^((?:webUrl|originalUrl): )(.+)$", re.M)
_TITLE_LINE = re.compile(r"^(title: )(.+)$", re.M)


def copy_url(value: str, k: int) -> str:
    """The YAML value of a URL line with ``copy=k`` added to its query (before any fragment)."""
    quote = value[0] if value[:1] in ("'", '"') and value[-1:] == value[:1] else ""
    url = value[1:-1] if quote else value
    head, hash_, fragment = url.partition("#")
    head += ("&" if "?" in head else "?") + f"copy={k}"
    return f"{quote}{head}{hash_}{fragment}{quote}"


def shift_date(match: re.Match, k: int) -> str:
    prefix, year, month, day = match.group(1), int(match.group(2)), int(match.group(3)), int(match.group(4))
    months = year * 12 + month - 1 + k * SHIFT_MONTHS
    year, month = divmod(months, 12)
    day = min(day, calendar.monthrange(year, month + 1)[1])
    return f"{prefix}{year:04d}-{month + 1:02d}-{day:02d}"


def replace_word(text: str, donor: str, salt: str) -> str:
    """``text`` with one of its words (chosen by ``salt``) replaced by a different word of ``donor``."""
    words, offered = list(_WORD.finditer(text)), [w for w in _WORD.findall(donor)]
    if not words:
        return text
    pick = int(hashlib.sha1(salt.encode()).hexdigest()[:8], 16)
    old = words[pick % len(words)]
    choices = [w for w in offered if w.lower() != old.group().lower()] or ["report"]
    new = choices[pick % len(choices)]
    return text[: old.start()] + new + text[old.end() :]


def make_copy(text: str, k: int, donor: str, salt: str) -> str:
    """Copy ``k`` of one article file (front matter as make_corpus.py writes it)."""
    head, sep, body = text.partition("\n---\n")
    head = _URL_LINE.sub(lambda m: m.group(1) + copy_url(m.group(2), k), head)
    head = _DATE.sub(lambda m: shift_date(m, k), head, count=1)
    donor_head, _, donor_body = donor.partition("\n---\n")
    donor_title = _TITLE_LINE.search(donor_head)
    head = _TITLE_LINE.sub(
        lambda m: m.group(1) + replace_word(m.group(2), donor_title.group(2) if donor_title else "", salt + "t"),
        head,
        count=1,
    )
    return head + sep + replace_word(body, donor_body, salt + "b")


def ensure_copies(base: Path, copies: int, workdir: Path) -> list[Path]:
    """Copies 1..``copies`` of ``base`` (made unless a finished one of this version is there)."""
    out = [workdir / f"copy-{k}" for k in range(1, copies + 1)]
    paths = list(iter_article_paths([base]))
    want = {"base": str(base), "files": len(paths), "version": COPY_VERSION}
    missing = [k for k, folder in enumerate(out, 1) if _marker(folder) != want]
    if not missing:
        return out
    log(f"writing copies {missing} of {base} ({len(paths):,} files) under {workdir}")
    texts = [p.read_text(encoding="utf-8", errors="surrogateescape") for p in paths]
    for k in missing:
        started = time.perf_counter()
        folder = out[k - 1]
        partial = folder.with_name(folder.name + ".partial")
        shutil.rmtree(partial, ignore_errors=True)
        shutil.rmtree(folder, ignore_errors=True)
        for i, (path, text) in enumerate(zip(paths, texts, strict=True)):
            target = partial / path.relative_to(base)
            target.parent.mkdir(parents=True, exist_ok=True)
            donor = texts[(i + k * DONOR_STRIDE) % len(texts)]
            copied = make_copy(text, k, donor, f"{k}:{path.relative_to(base)}")
            target.write_text(copied, encoding="utf-8", errors="surrogateescape")
        partial.rename(folder)
        folder.with_suffix(".json").write_text(json.dumps(want), encoding="utf-8")
        log(f"copy {k}: {len(paths):,} files in {time.perf_counter() - started:.1f} s")
    return out


def _marker(folder: Path) -> dict:
    try:
        return json.loads(folder.with_suffix(".json").read_text(encoding="utf-8")) if folder.is_dir() else {}
    except (OSError, ValueError):
        return {}
