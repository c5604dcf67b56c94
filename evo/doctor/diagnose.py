"""One file through the doctor: read, parse, static checks, and (with a renderer) the rendered
checks. Also the sweep-worker job that does the same for a folder, one process per core."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from evo.config import EvalSettings
from evo.doctor.findings import Diagnosis
from evo.doctor.rendered import DOCTOR_SETTINGS, render_findings
from evo.doctor.static import static_findings, unreadable
from evo.mining.safe_ranges import SafeRanges

DEFAULT_SAFE_RANGES = Path(__file__).with_name("safe_ranges.json")
"""Safe ranges fitted from projectm-data (`liandan analyze` on its 64x64 mine): what "far outside
what healthy presets use" means unless ``--safe-ranges`` names another file."""


def default_safe_ranges() -> SafeRanges:
    from evo.mining.safe_ranges import load_safe_ranges

    return load_safe_ranges(DEFAULT_SAFE_RANGES)


@dataclass
class Renderers:
    """What the rendered checks need, made once per process and reused for every file."""

    settings: EvalSettings
    renderer: object
    analyzer: object

    @classmethod
    def make(cls, settings: EvalSettings = DOCTOR_SETTINGS) -> "Renderers":
        from evo.fitness.candidate import make_analyzer, make_renderer

        return cls(settings, make_renderer(settings), make_analyzer(settings))

    def release(self) -> None:
        if hasattr(self.renderer, "release"):
            self.renderer.release()


def diagnose_text(text: str | bytes, file: str, *, ranges: SafeRanges | None = None, renderers: Renderers | None = None,
                  silence: bool = True) -> tuple[Diagnosis, np.ndarray | None, dict]:
    """(diagnosis, last rendered frame or None, the render's result in evaluate_preset's shape)."""
    from evo.mining.static import content_hash
    from renderer.milk.preset import PresetError, parse_milk

    t0 = time.monotonic()
    data = text.encode("latin-1", errors="replace") if isinstance(text, str) else bytes(text)
    diag = Diagnosis(file=file, hash=content_hash(data))
    try:
        preset = parse_milk(data, source=file)
    except PresetError as exc:
        diag.findings.append(unreadable(file, exc))
        diag.seconds = time.monotonic() - t0
        return diag, None, {}
    raw = data.decode("latin-1")
    diag.findings.extend(static_findings(preset, file, raw, ranges))
    still, result = None, {}
    if renderers is not None:
        outcome = render_findings(preset, file, renderers.settings, renderers.renderer, renderers.analyzer,
                                  silence=silence, line_of=preset.line_of)
        diag.findings.extend(outcome.findings)
        diag.rendered = True
        diag.render = outcome.summary
        still, result = outcome.still, outcome.result
    diag.seconds = time.monotonic() - t0
    return diag, still, result


def diagnose_file(path: str | Path, **kw) -> tuple[Diagnosis, np.ndarray | None, dict]:
    """Like :func:`diagnose_text` for a file on disk; a file that cannot be read is a finding."""
    from evo.doctor.findings import finding
    from evo.mining.mine import read_preset_bytes

    path = Path(path)
    data, why = read_preset_bytes(path)
    if data is None:
        return Diagnosis(str(path), findings=[finding("unreadable", str(path), None, f"Cannot read the file: {why}.")]), None, {}
    return diagnose_text(data, str(path), **kw)


# ---------------------------------------------------------------- the folder worker


@dataclass(frozen=True)
class DoctorJob:
    """The sweep job (picklable): diagnose one path in a worker, with that worker's renderer."""

    settings: EvalSettings = DOCTOR_SETTINGS
    render: bool = True
    silence: bool = True
    safe_ranges: str = str(DEFAULT_SAFE_RANGES)

    def setup(self, cache: dict) -> None:
        """The worker's safe ranges and renderer, made by its first file and kept in ``cache``."""
        import os

        from evo.mining.safe_ranges import load_safe_ranges

        os.environ.setdefault("LP_NUM_THREADS", "0")
        if "ranges" not in cache:
            cache["ranges"] = load_safe_ranges(self.safe_ranges) if self.safe_ranges else None
        if self.render and "renderers" not in cache:
            cache["renderers"] = Renderers.make(self.settings)

    def __call__(self, path: str, config, cache: dict) -> dict:
        self.setup(cache)
        try:
            diag, still, _ = diagnose_file(path, ranges=cache["ranges"], renderers=cache.get("renderers"),
                                           silence=self.silence)
        except Exception:
            r = cache.pop("renderers", None)  # a renderer left half-way is made again for the next file
            if r is not None:
                r.release()
            raise
        return {"file": path, "status": "rendered", "error": None, "diagnosis": diag.to_json(), "image": still}
