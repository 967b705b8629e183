"""What the benchmark scripts share: where things are, corpus preparation, parsing the corpus the
way the indexer does, measuring a process tree's memory, and printing aligned tables."""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from searchsvc.documents import Article, iter_article_paths, parse_article
from searchsvc.errors import DocumentError

REPO_DIR = Path(__file__).resolve().parents[1]
SHARED_DIR = Path(__file__).resolve().parents[2] / "shared"
MAKE_CORPUS = SHARED_DIR / "bench" / "make_corpus.py"
QUERIES_FILE = SHARED_DIR / "bench" / "queries.jsonl"
DEFAULT_CORPUS = Path("/work/data/news-all")
MB = 1024 * 1024
PAGE_SIZE = os.sysconf("SC_PAGE_SIZE")


def log(message: str) -> None:
    """Progress goes to stderr, so stdout holds only the tables."""
    print(message, file=sys.stderr, flush=True)


# -- corpus ------------------------------------------------------------------------------------


def wait_for_background_work(timeout: float = 300.0) -> float:
    """Wait for the threads an engine started when it opened a view (Whoosh builds a generation's
    autocomplete index in one: about 9 s of CPU at 155k articles, which a search pass would
    otherwise share the interpreter with), so that what is measured is a server's steady state.
    Returns the seconds waited."""
    started = time.perf_counter()
    for thread in threading.enumerate():
        if thread is not threading.current_thread() and thread is not threading.main_thread():
            thread.join(max(0.0, timeout - (time.perf_counter() - started)))
    return time.perf_counter() - started


def cpu_seconds(pids: list[int]) -> float:
    """User + system CPU seconds of ``pids`` so far (from /proc; a process gone counts 0)."""
    total = 0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/stat", encoding="ascii") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])
        except (OSError, IndexError, ValueError):
            continue
    return total / os.sysconf("SC_CLK_TCK")


def wait_until_idle(pids: list[int], quiet: float = 3.0, limit: float = 300.0) -> float:
    """Wait until ``pids`` used under 5 % of a core for ``quiet`` seconds (their background work,
    such as the autocomplete index, is done), at most ``limit`` seconds; returns the seconds waited."""
    started = time.perf_counter()
    while time.perf_counter() - started < limit:
        before = cpu_seconds(pids)
        time.sleep(quiet)
        if cpu_seconds(pids) - before < 0.05 * quiet:
            break
    return time.perf_counter() - started


def count_article_files(corpus: Path) -> int:
    return sum(1 for _ in iter_article_paths([corpus]))


def generate_corpus(out: Path, n: int = 0) -> None:
    """Write ``n`` articles (0: all) with the shared make_corpus.py."""
    command = [sys.executable, str(MAKE_CORPUS), "--out", str(out)]
    if n:
        command[2:2] = ["--n", str(n)]
    log(f"generating corpus: {' '.join(command)}")
    subprocess.run(command, check=True)


def prepare_corpus(corpus: Path, n: int, subset_dir: Path) -> Path:
    """The corpus to measure: ``corpus`` itself (generated if missing), or an ``n``-article subset
    in ``subset_dir`` (generated unless it is there) when ``n`` is smaller than the corpus."""
    if not corpus.is_dir():
        generate_corpus(corpus, n)
        return corpus
    if n:
        available = count_article_files(corpus)
        if n < available:
            if not subset_dir.is_dir():
                partial = subset_dir.with_name(subset_dir.name + ".partial")
                shutil.rmtree(partial, ignore_errors=True)
                generate_corpus(partial, n)
                partial.rename(subset_dir)
            return subset_dir
        log(f"--n {n} covers all {available} files of {corpus}: using it as is")
    return corpus


def read_corpus(*roots: Path) -> float:
    """Read every article file under ``roots`` once, so that a timed step that follows finds them
    in the page cache as its peer did (some machines page out files idle for a minute: a cold
    read cost about 170 µs more per article file than a warm one on this project's machine, most
    of a 155k build's parse); returns the seconds it took."""
    return _read_whole(iter_article_paths(roots))


def read_files(*paths: Path) -> float:
    """Read every file at or below ``paths`` (an index's folder, a database file) once, so that the
    engine measured next finds its files in the page cache as a peer whose index was just built
    does (read_corpus says why); returns the seconds it took."""
    files = []
    for path in paths:
        if os.path.isfile(path):
            files.append(path)
        for folder, _, names in os.walk(path):
            files.extend(os.path.join(folder, name) for name in names)
    return _read_whole(files)


def _read_whole(files) -> float:
    """Read each file to its end (one that cannot be opened, as a lock file or one removed
    meanwhile, is passed over); the seconds it took."""
    started = time.perf_counter()
    for file in files:
        try:
            with open(file, "rb") as handle:
                while handle.read(1 << 20):
                    pass
        except OSError:
            continue
    return time.perf_counter() - started


def compile_package() -> None:
    """Compile searchsvc's modules to bytecode (__pycache__), as installing a package does: an
    editable install run with PYTHONDONTWRITEBYTECODE set (this project's machines set it)
    otherwise compiles every module again in each process it starts, about 0.25 s per
    ``searchsvc index``, which no installed service pays."""
    import compileall

    import searchsvc

    compileall.compile_dir(os.path.dirname(searchsvc.__file__), quiet=1)


def clean_env() -> dict[str, str]:
    """The environment without SEARCHSVC_* settings, so a benchmark measures the defaults."""
    return {k: v for k, v in os.environ.items() if not k.startswith("SEARCHSVC_")}


# -- parsing (the same parser and the same duplicate rule as searchsvc.indexer) -------------------


@dataclass
class ParsedCorpus:
    articles: list[Article]
    files: int
    failures: int
    duplicates: int
    seconds: float


def parse_corpus(corpus: Path) -> ParsedCorpus:
    """Parse every file in one process. When several articles share an id, the indexer's rule
    picks the winner: a top-level article over a related entry, then the newer file, then the
    path that sorts last."""
    started = time.perf_counter()
    winners: dict[str, tuple[tuple[bool, int, str], Article]] = {}
    files = failures = duplicates = 0
    for path in iter_article_paths([corpus]):
        files += 1
        try:
            parsed = parse_article(path)
            mtime_ns = path.stat().st_mtime_ns
        except (DocumentError, OSError):
            failures += 1
            continue
        key = os.path.abspath(path)
        for article in parsed.articles:
            rank = (not article.is_related, mtime_ns, key)
            held = winners.get(article.id)
            if held is not None:
                duplicates += 1
                if held[0] >= rank:
                    continue
            winners[article.id] = (rank, article)
    articles = [article for _, article in winners.values()]
    return ParsedCorpus(articles, files, failures, duplicates, time.perf_counter() - started)


# -- memory of a process tree --------------------------------------------------------------------


def _children_by_parent() -> dict[int, list[int]]:
    out: dict[int, list[int]] = {}
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat", "rb") as handle:
                stat = handle.read()
        except OSError:
            continue
        # the command name may contain spaces and parentheses: fields start after the last ')'
        ppid = int(stat[stat.rindex(b")") + 2 :].split()[1])
        out.setdefault(ppid, []).append(int(name))
    return out


def process_tree(root: int) -> list[int]:
    children = _children_by_parent()
    tree, todo = [], [root]
    while todo:
        pid = todo.pop()
        tree.append(pid)
        todo.extend(children.get(pid, []))
    return tree


def process_rss(pid: int) -> int | None:
    """Resident set size in bytes, from the kernel's counters (cheap to read)."""
    try:
        with open(f"/proc/{pid}/statm", "rb") as handle:
            return int(handle.read().split()[1]) * PAGE_SIZE
    except (OSError, IndexError, ValueError):
        return None


def smaps_rollup(pid: int, field: bytes) -> int | None:
    """One field of /proc/PID/smaps_rollup (b"Pss:", b"Anonymous:", ...) in bytes; None if unreadable."""
    try:
        with open(f"/proc/{pid}/smaps_rollup", "rb") as handle:
            for line in handle:
                if line.startswith(field):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return None


def process_pss(pid: int) -> int | None:
    """Proportional set size in bytes (RSS where smaps_rollup is unavailable). The kernel walks
    the page tables for this: about 20-30 ms per GB, so it is read less often than RSS."""
    pss = smaps_rollup(pid, b"Pss:")
    return pss if pss is not None else process_rss(pid)


class TreeMemorySampler:
    """Samples a process tree in a thread. Every ``interval`` seconds: RSS of each process (the
    largest single one is kept). The tree's PSS sum (the largest is kept) is read every
    ``pss_interval`` seconds, and whenever the tree's RSS sum has grown by 5 % since the last PSS
    reading, so short runs and the peak are caught without walking page tables 20 times a second."""

    def __init__(self, pid: int, interval: float = 0.05, pss_interval: float = 0.05) -> None:
        self.pid = pid
        self.interval = interval
        self.pss_interval = max(pss_interval, interval)
        self.peak_tree_pss = 0
        self.peak_process_rss = 0
        self.cpu_seconds = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> TreeMemorySampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        started = time.thread_time()
        next_pss, rss_at_pss = 0.0, 0
        while not self._stop.is_set():
            tree = process_tree(self.pid)
            sizes = [size for size in map(process_rss, tree) if size is not None]
            rss_sum = sum(sizes)
            self.peak_process_rss = max([self.peak_process_rss, *sizes])
            now = time.monotonic()
            if now >= next_pss or rss_sum > rss_at_pss * 1.05:
                next_pss, rss_at_pss = now + self.pss_interval, rss_sum
                pss = sum(size for size in map(process_pss, tree) if size is not None)
                self.peak_tree_pss = max(self.peak_tree_pss, pss)
            self._stop.wait(self.interval)
        self.cpu_seconds = time.thread_time() - started


@dataclass
class Measured:
    command: list[str]
    seconds: float
    returncode: int
    stdout: str
    stderr: str
    peak_tree_pss: int
    peak_process_rss: int
    sampler_cpu_seconds: float

    @property
    def pss_mb(self) -> float:
        return self.peak_tree_pss / MB

    @property
    def rss_mb(self) -> float:
        return self.peak_process_rss / MB

    def check(self) -> Measured:
        if self.returncode != 0:
            command = " ".join(self.command)
            raise SystemExit(f"{command} failed with exit status {self.returncode}:\n{self.stderr}{self.stdout}")
        return self


def run_measured(
    command: Sequence[str],
    cwd: Path | None = None,
    interval: float = 0.05,
    pss_interval: float = 0.05,
    sample: bool = True,
) -> Measured:
    """Run a command; its wall time and (unless ``sample`` is false) the peak memory of its
    process tree. The sampler's own cost grows with the memory it reads (the PSS of a process is
    a walk of its page tables, which also holds its memory map's lock): a time to compare across
    sizes is best taken from a run without it."""
    log(f"$ {' '.join(command)}" + ("" if sample else "   (timed, memory not sampled)"))
    started = time.perf_counter()
    proc = subprocess.Popen(
        list(command), cwd=cwd, env=clean_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    if not sample:
        stdout, stderr = proc.communicate()
        return Measured(list(command), time.perf_counter() - started, proc.returncode, stdout, stderr, 0, 0, 0.0)
    with TreeMemorySampler(proc.pid, interval, pss_interval) as sampler:
        stdout, stderr = proc.communicate()
    seconds = time.perf_counter() - started
    return Measured(
        list(command),
        seconds,
        proc.returncode,
        stdout,
        stderr,
        sampler.peak_tree_pss,
        sampler.peak_process_rss,
        sampler.cpu_seconds,
    )


# -- numbers and tables --------------------------------------------------------------------------


@dataclass
class Summary:
    p50: float
    p95: float
    p99: float
    mean: float
    max: float
    count: int = 0
    extra: dict = field(default_factory=dict)


def summarise(values: Sequence[float]) -> Summary:
    """Percentiles by linear interpolation between closest ranks (numpy's default)."""
    cuts = statistics.quantiles(values, n=100, method="inclusive") if len(values) > 1 else list(values) * 99
    return Summary(cuts[49], cuts[94], cuts[98], statistics.fmean(values), max(values), len(values))


def format_table(headers: Sequence[str], rows: Sequence[Sequence[object]], align: str = "") -> str:
    """A Markdown table with aligned columns. ``align`` has one letter per column: l or r."""
    align = align.ljust(len(headers), "l")
    blank = [""] * len(headers)
    cells = [[str(h) for h in headers]]
    cells += [(["" if c is None else str(c) for c in row] + blank)[: len(headers)] for row in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    widths = [max(w, 3) for w in widths]

    def line(row: list[str]) -> str:
        parts = [c.rjust(w) if a == "r" else c.ljust(w) for c, w, a in zip(row, widths, align, strict=True)]
        return "| " + " | ".join(parts) + " |"

    rule = "| " + " | ".join(("-" * (w - 1) + ":") if a == "r" else "-" * w for w, a in zip(widths, align, strict=True))
    return "\n".join([line(cells[0]), rule + " |", *(line(row) for row in cells[1:])])


def fmt(value: float | None, digits: int = 1) -> str:
    return "—" if value is None else f"{value:,.{digits}f}"
