"""What a build or check did: counts, failures and warnings, and their text form."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field


@dataclass(frozen=True)
class DocumentFailure:
    path: str
    reason: str
    line: int | None = None

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.reason}" if self.line else f"{self.path}: {self.reason}"


@dataclass
class IndexReport:
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    deleted: int = 0
    duplicates: int = 0
    failures: list[DocumentFailure] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    articles: int = 0
    documents: int = 0
    generation: str = ""
    full: bool = False
    seconds: float = 0.0
    started_at: float = 0.0
    finished_at: float = 0.0
    # seconds spent finding files, parsing them, writing the index and publishing it
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def failed(self) -> int:
        return len(self.failures)

    def counts_line(self) -> str:
        return (
            f"added {self.added}, updated {self.updated}, unchanged {self.unchanged}, "
            f"deleted {self.deleted}, duplicates {self.duplicates}, failed {self.failed}"
        )

    def to_dict(self) -> dict:
        data = asdict(self)
        data["failures"] = [str(f) for f in self.failures]
        data["failed"] = self.failed
        return data

    def lines(self, verbose: bool = False) -> list[str]:
        """The report as printed: counts, then one line per failure (and warning, if verbose)."""
        out = [f"{'Full build' if self.full else 'Update'}: {self.counts_line()}."]
        if self.generation:
            out.append(
                f"Index {self.generation}: {self.documents} documents "
                f"({self.articles} articles written) in {self.seconds:.1f} s."
            )
        out.extend(str(failure) for failure in self.failures)
        if verbose:
            if self.timings:
                out.append("Timings: " + ", ".join(f"{k} {v:.1f} s" for k, v in self.timings.items()) + ".")
            out.extend(f"warning: {w}" for w in self.warnings)
        elif self.warnings:
            noun = "warning" if len(self.warnings) == 1 else "warnings"
            out.append(f"{len(self.warnings)} {noun} (run with --verbose to list them).")
        return out
