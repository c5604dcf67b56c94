"""What the doctor says about a preset: findings (one problem each, pointing into the file) and
the diagnosis that gathers them with the render's figures.

A finding is written for the preset's author: ``message`` is one sentence that names the value,
the line and what MilkDrop does with it; ``fix`` says what ``--repair`` would do about it (None:
nothing, it is for a person to decide). Severities, worst first:

    error     the preset is broken where it plays: a dead picture (black, white-out, frozen, flat,
              noise), a shader that falls back, code MilkDrop cannot compile
    warning   it plays, but something is wrong or risky: values outside what MilkDrop accepts or
              far outside what healthy presets use, code that can make NaN/inf, loops that hit
              the cap, NaN that reaches the picture, strobing, too slow for real time, a missing texture
    info      harmless: keys MilkDrop does not read, no reaction to music, what MilkDrop tolerates

Everything here is plain data with ``to_json``/``from_json`` (the folder report and the app read
diagnoses as JSON, never pickle).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

SEVERITIES = ("error", "warning", "info")
SEVERITY_RANK = {s: i for i, s in enumerate(SEVERITIES)}
SEVERITY_WEIGHT = {"error": 10.0, "warning": 3.0, "info": 0.0}
"""How much a finding of each severity weighs when a repair is judged (info never counts)."""

#: Every check the doctor runs, with its severity and a short title for reports.
CHECKS: dict[str, tuple[str, str]] = {
    # static
    "unreadable": ("error", "file does not parse"),
    "reader_note": ("info", "something MilkDrop silently tolerates"),
    "out_of_range": ("warning", "value outside MilkDrop's valid range"),
    "outside_safe_range": ("warning", "value outside the safe range, where presets often fail"),
    "ignored_key": ("info", "key MilkDrop does not read"),
    "code_error": ("error", "code block that does not compile"),
    "code_statement_skipped": ("warning", "statement MilkDrop leaves out"),
    "nan_code": ("warning", "code that can make NaN or infinity"),
    "loop_cap": ("warning", "loop that hits the iteration cap"),
    "shader_translate": ("error", "shader that does not translate"),
    # rendered
    "render_error": ("error", "render fails"),
    "shader_fallback": ("error", "shader that falls back to MilkDrop 1"),
    "missing_texture": ("warning", "texture file not found"),
    "black": ("error", "black screen"),
    "white": ("error", "white-out"),
    "frozen": ("error", "frozen picture"),
    "flat": ("error", "one flat colour"),
    "noise": ("error", "noise (an exploded feedback loop)"),
    "nan_picture": ("warning", "NaN reaches the picture"),
    "strobing": ("warning", "flashes more than 3 times a second (WCAG 2.3.1)"),
    "slow": ("warning", "too slow for real time"),
    "no_music_reaction": ("info", "does not react to music"),
}
DEAD_CHECKS = ("black", "white", "frozen", "flat", "noise", "render_error")
"""Rendered findings that make a preset 'dead': nothing a viewer would keep watching."""


@dataclass
class Finding:
    check: str  # a key of CHECKS
    severity: str  # one of SEVERITIES
    file: str
    line: int | None  # 1-based line in the file, None when the finding is about the whole preset
    message: str  # one sentence for the preset's author
    fix: str | None = None  # what --repair does about it; None: nothing automatic
    key: str | None = None  # the parameter or code section it is about
    data: dict = field(default_factory=dict)  # numbers behind the message (value, range, frame...)

    def to_json(self) -> dict:
        return asdict(self)

    @classmethod
    def from_json(cls, d: dict) -> "Finding":
        return cls(d["check"], d["severity"], d["file"], d.get("line"), d["message"], d.get("fix"), d.get("key"),
                   dict(d.get("data") or {}))

    def where(self) -> str:
        return f"{self.file}:{self.line}" if self.line else self.file


def finding(check: str, file: str, line: int | None, message: str, fix: str | None = None, key: str | None = None,
            severity: str | None = None, **data) -> Finding:
    """A finding of ``check`` with its usual severity (``severity`` overrides it)."""
    if check not in CHECKS:
        raise ValueError(f"unknown check {check!r}")
    return Finding(check, severity or CHECKS[check][0], file, line, message, fix, key, data)


@dataclass
class Diagnosis:
    """Everything the doctor found out about one file."""

    file: str
    hash: str | None = None
    findings: list[Finding] = field(default_factory=list)
    rendered: bool = False
    render: dict = field(default_factory=dict)  # score, degenerate, stats, flashes_per_s, ms_per_frame, ...
    seconds: float = 0.0

    @property
    def dead(self) -> bool:
        return any(f.check in DEAD_CHECKS for f in self.findings)

    @property
    def worst(self) -> str | None:
        """The worst severity among the findings (None: nothing found)."""
        ranks = [SEVERITY_RANK[f.severity] for f in self.findings]
        return SEVERITIES[min(ranks)] if ranks else None

    @property
    def healthy(self) -> bool:
        """Rendered, and no error-level finding."""
        return self.rendered and not any(f.severity == "error" for f in self.findings)

    def burden(self) -> float:
        """Severity-weighted count of findings: what a repair must lower."""
        return sum(SEVERITY_WEIGHT[f.severity] for f in self.findings)

    def counts(self) -> dict[str, int]:
        out = dict.fromkeys(SEVERITIES, 0)
        for f in self.findings:
            out[f.severity] += 1
        return out

    def sorted_findings(self) -> list[Finding]:
        return sorted(self.findings, key=lambda f: (SEVERITY_RANK[f.severity], f.line or 0, f.check))

    def to_json(self) -> dict:
        return {"file": self.file, "hash": self.hash, "worst": self.worst, "healthy": self.healthy, "dead": self.dead,
                "counts": self.counts(), "findings": [f.to_json() for f in self.sorted_findings()],
                "rendered": self.rendered, "render": self.render, "seconds": round(self.seconds, 3)}

    @classmethod
    def from_json(cls, d: dict) -> "Diagnosis":
        return cls(d["file"], d.get("hash"), [Finding.from_json(f) for f in d.get("findings", [])],
                   bool(d.get("rendered")), dict(d.get("render") or {}), float(d.get("seconds") or 0.0))
