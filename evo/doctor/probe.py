"""Code that can make NaN or infinity, and loops that run into the cap: found by running a
preset's equations (no GL) over sampled inputs, the way a player would feed them.

EEL has no exceptions: ``log(0)`` is -inf, ``log(-1)``, ``asin(2)`` and ``inf - inf`` are NaN,
``exp(800)`` is inf, and one NaN in ``zoom`` or a q variable spreads through the mesh into the
picture (the feedback keeps it for ever). Division by zero is 0 in EEL, so it is not a source.
Reading the text cannot tell whether ``log(bass - 1)`` ever sees a negative number; running it
can. The inputs (:data:`SCENARIOS`): the synthetic music's real levels, silence (every level 0),
and loud random levels an hour into playback (large ``time``), each for a number of frames, with
per-pixel code over a coarse mesh that includes the centre (``rad = 0``), custom waves over a
few dozen samples and every shape instance.

A section is flagged when a value it hands on (a built-in variable, a q or t variable, a wave
point, a shape instance, a per-pixel motion value) is not finite. The statement to blame is the
first one that assigns the failing variable and calls a function that can fail (log, log10,
asin, acos, exp, tan, pow, sigmoid) or reads a variable that already failed; failing that, the
first statement that assigns it. ``neutralise`` appends a guard right after it. Loops: a block
run that spends at least one loop's cap (2^20 steps) in one frame has a loop that hits it.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field

import numpy as np

from renderer.eel import LOOP_BUDGET, LOOP_CAP
from renderer.milk.preset import Preset, code_text, line_of_offset

RISKY = ("log", "log10", "asin", "acos", "exp", "tan", "pow", "sigmoid", "sqr", "invsqrt")
_RISKY_CALL = re.compile(r"\b(" + "|".join(RISKY) + r")\s*\(", re.I)
_NAME = re.compile(r"\b([a-z_][a-z0-9_]*)\b", re.I)
_ASSIGN = re.compile(r"\b([a-z_][a-z0-9_]*)\s*(?:[-+*/%^&|]?=)(?!=)", re.I)
GUARD_LIMIT = "1e30"

#: (name, frames, level source, first frame): every scenario starts the preset afresh.
SCENARIOS = (("music", 90, "music", 1), ("silence", 30, "silence", 1), ("loud, an hour in", 30, "loud", 216_000))
FPS = 60.0
ASPECT = (1.0, 0.75)
"""MilkDrop's aspect factors of a 4:3 window (1024x768), the shape most presets were made in: in a
square window the mesh's corners sit at rad = sqrt(2), where ``log(sqrt(2) - rad)`` is -inf."""
MAX_ITEM_RUNS = 400_000
"""Shape instances and wave points run per frame, summed over the probe: past this the probe stops
early (a 1024-instance shape costs milliseconds a frame; the probe must stay a fraction of a second)."""


@dataclass
class Statement:
    index: int  # 0-based among the block's top-level statements
    text: str
    line: int  # 1-based line within the section


@dataclass
class Trouble:
    """One section whose output went non-finite (``kind`` 'nan') or whose loops hit the cap ('loop')."""

    kind: str
    section: str
    variable: str | None
    frame: int
    scenario: str
    statement: Statement | None = None
    cause: str = ""
    steps: int = 0  # loop steps in the worst frame

    def to_json(self) -> dict:
        out = {"kind": self.kind, "section": self.section, "variable": self.variable, "frame": self.frame,
               "scenario": self.scenario, "cause": self.cause, "steps": self.steps}
        if self.statement is not None:
            out["statement"] = {"index": self.statement.index, "text": self.statement.text, "line": self.statement.line}
        return out


@dataclass
class ProbeResult:
    troubles: list[Trouble] = field(default_factory=list)
    frames: int = 0
    stopped_early: bool = False


def statements(lines: list[str]) -> list[Statement]:
    """Top-level statements of a code block (';' outside parentheses ends one), with their lines."""
    text, offsets = code_text(lines)
    out, depth, start = [], 0, 0
    for i, ch in enumerate(text + ";"):
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth = max(depth - 1, 0)
        elif ch == ";" and (depth == 0 or i == len(text)):  # unbalanced parentheses end at the block's end
            piece = text[start:i]
            if piece.strip():
                lead = len(piece) - len(piece.lstrip())
                out.append(Statement(len(out), piece.strip(), line_of_offset(offsets, start + lead)))
            start = i + 1
    return out


def _levels(source: str, n: int, first: int) -> np.ndarray:
    """(n, 6) bass, mid, treb and their _att for frames first..first+n-1."""
    if source == "silence":
        return np.zeros((n, 6))
    if source == "music":
        from renderer.audio import default_analyzer

        return default_analyzer(fps=FPS, seconds=max(4.0, n / FPS + 1.0), seed=0).levels(n)
    rng = np.random.default_rng(first)
    raw = rng.uniform(0.0, 3.0, size=(n, 3))
    att = np.empty_like(raw)
    acc = np.ones(3)
    for k in range(n):
        acc = 0.8 * acc + 0.2 * raw[k]
        att[k] = acc
    return np.concatenate([raw, att], axis=1)


class _Metered:
    """A compiled block that remembers the most loop steps one run of it spent."""

    def __init__(self, block, runtime):
        self._block, self._rt = block, runtime
        self.most_steps = 0

    def __getattr__(self, name):
        return getattr(self._block, name)

    def _note(self) -> None:
        self.most_steps = max(self.most_steps, LOOP_BUDGET - self._rt.budget)

    def run(self, vm):
        self._rt.reset_budget()
        self._block.run(vm)
        self._note()

    def run_many(self, vm, per_item, n, outputs):
        self._rt.reset_budget()
        out = self._block.run_many(vm, per_item, n, outputs)
        self._note()
        return out

    def _run_items_raw(self, vm, per_item, n, outputs, reset_budget_each=False):
        self._rt.reset_budget()
        out = self._block._run_items_raw(vm, per_item, n, outputs, reset_budget_each)
        self._note()
        return out


def _meter(eq) -> dict[str, _Metered]:
    """Wrap every compiled block of a PresetEquations in place; section name -> meter."""
    rt = eq.runtime
    meters: dict[str, _Metered] = {}

    def wrap(block, section):
        if block is None:
            return None
        meters[section] = _Metered(block, rt)
        return meters[section]

    eq.init_block = wrap(eq.init_block, "per_frame_init")
    eq.frame_block = wrap(eq.frame_block, "per_frame")
    eq.pixel_block = wrap(eq.pixel_block, "per_pixel")
    eq.wave_blocks = [tuple(wrap(b, f"wave{k}_{p}") for b, p in zip(blocks, ("init", "per_frame", "per_point")))
                      for k, blocks in enumerate(eq.wave_blocks)]
    eq.shape_blocks = [tuple(wrap(b, f"shape{k}_{p}") for b, p in zip(blocks, ("init", "per_frame")))
                       for k, blocks in enumerate(eq.shape_blocks)]
    return meters


def _first_bad(values: dict) -> str | None:
    for name, v in values.items():
        if isinstance(v, np.ndarray):
            if v.size and not np.all(np.isfinite(v)):
                return name
        elif isinstance(v, float) and not math.isfinite(v):
            return name
    return None


def probe(preset: Preset, seed: int = 0, time_limit_s: float = 3.0) -> ProbeResult:
    """Run the preset's code over :data:`SCENARIOS`; one :class:`Trouble` per failing section
    (the first failure found in it) and per section whose loops hit the cap. A scenario stops at
    its first capped loop (each such frame costs a second), and the probe after ``time_limit_s``."""
    import time
    from renderer.equations import PresetEquations
    from renderer.stages.warp_mesh import MeshGrid

    grid = MeshGrid(8, 6, *ASPECT)
    px, py, rad, ang = grid.pixel_inputs()
    result = ProbeResult()
    found: dict[tuple[str, str], Trouble] = {}
    item_runs = 0
    wave_n = 48
    sample = np.linspace(0.0, 1.0, wave_n)
    wave_rng = np.random.default_rng(seed)
    value1, value2 = wave_rng.uniform(-0.5, 0.5, wave_n), wave_rng.uniform(-0.5, 0.5, wave_n)

    def flag(kind, section, variable, frame, scenario, steps=0):
        if (kind, section) not in found:
            found[(kind, section)] = Trouble(kind, section, variable, frame, scenario, steps=steps)

    deadline = time.monotonic() + time_limit_s
    with np.errstate(all="ignore"):
        for scenario, n, source, first in SCENARIOS:
            eq = PresetEquations(preset, seed=seed)
            meters = _meter(eq)
            levels = _levels(source, n, first)
            for i in range(n):
                k = first + i
                inputs = {"time": k / FPS, "frame": float(k), "fps": FPS, "progress": min(1.0, k / FPS / 30.0),
                          "meshx": 48.0, "meshy": 36.0, "pixelsx": 1024.0, "pixelsy": 768.0, "aspectx": 1.0 / ASPECT[0],
                          "aspecty": 1.0 / ASPECT[1]}
                inputs.update(zip(("bass", "mid", "treb", "bass_att", "mid_att", "treb_att"), map(float, levels[i])))
                fv = eq.begin_frame(inputs)
                bad = _first_bad(eq._q_after_init) if i == 0 else None
                if bad:
                    flag("nan", "per_frame_init", bad, k, scenario)
                bad = _first_bad(fv)
                if bad:
                    flag("nan", "per_frame", bad, k, scenario)
                pp = eq.per_pixel(fv, px, py, rad, ang)
                bad = _first_bad(pp) if pp else None
                if bad:
                    flag("nan", "per_pixel", bad, k, scenario)
                for w in range(len(eq.wave_blocks)):
                    wv = eq.wave_frame(w, fv)
                    if wv is None:
                        continue
                    bad = _first_bad(wv)
                    if bad:
                        flag("nan", f"wave{w}_per_frame", bad, k, scenario)
                    pts = eq.wave_points(w, wv, sample, value1, value2)
                    item_runs += wave_n
                    bad = _first_bad(pts)
                    if bad:
                        flag("nan", f"wave{w}_per_point", bad, k, scenario)
                for s in range(len(eq.shape_blocks)):
                    rows = eq.shape_instances(s, fv)
                    item_runs += len(rows)
                    bad = next((b for b in (_first_bad(r) for r in rows[:64]) if b), None)
                    if bad:
                        flag("nan", f"shape{s}_per_frame", bad, k, scenario)
                for section, meter in meters.items():
                    if meter.most_steps >= LOOP_CAP:
                        flag("loop", section, None, k, scenario, steps=meter.most_steps)
                result.frames += 1
                if any(kind == "loop" for kind, _ in found):
                    break
                if item_runs > MAX_ITEM_RUNS or time.monotonic() > deadline:
                    result.stopped_early = True
                    break
            if result.stopped_early:
                break
    sections = preset.code_sections()
    for t in found.values():
        t.statement, t.cause = blame(sections.get(t.section) or [], t.variable, t.kind)
        # a NaN in a wave or shape section may come from a bad q variable the frame code made
        result.troubles.append(t)
    return result


def blame(lines: list[str], variable: str | None, kind: str = "nan") -> tuple[Statement | None, str]:
    """The statement of a block most likely to make ``variable`` non-finite (or, for ``kind``
    'loop', the first loop), and the cause in words."""
    stmts = statements(lines)
    if kind == "loop":
        for s in stmts:
            if re.search(r"\b(loop|while)\s*\(", s.text, re.I):
                return s, "a loop that runs 2^20 times or more in one frame (MilkDrop stops it there)"
        return None, "loops in this block run 2^20 times or more in one frame"
    if not variable:
        return None, ""
    var = variable.lower()
    origin: dict[str, tuple[Statement, str]] = {}  # name -> the risky statement its value may come from
    for s in stmts:
        lhs, _, rhs = s.text.partition("=")
        written = {m.lower() for m in _ASSIGN.findall(s.text)}
        calls = _RISKY_CALL.findall(s.text)
        read = {m.lower() for m in _NAME.findall(rhs or lhs)}
        source = (s, _cause(calls)) if calls else next((origin[r] for r in read if r in origin), None)
        for name in written:
            if source is not None:
                origin[name] = source
            else:
                origin.pop(name, None)
    if var in origin:
        return origin[var]
    assigning = [s for s in stmts if var in {m.lower() for m in _ASSIGN.findall(s.text)}]
    if assigning:
        s = assigning[0]
        reads = {m.lower() for m in _NAME.findall(s.text.split("=", 1)[-1])}
        if var in reads:
            return s, f"{var} is computed from its own previous value and grows until it overflows"
        return s, "its inputs reach values where it is not finite"
    return None, ""


def _cause(calls: list[str]) -> str:
    names = {c.lower() for c in calls}
    if names & {"log", "log10"}:
        return "log of zero or of a negative number"
    if names & {"asin", "acos"}:
        return "asin/acos of a value outside -1..1"
    if names & {"exp", "pow", "sqr"}:
        return "a power or exponential that overflows"
    if "tan" in names:
        return "tan near a right angle"
    return f"{sorted(names)[0]}() of a value it is not defined for"


def guard_statement(variable: str, fallback: float) -> str:
    """EEL that puts ``variable`` back to ``fallback`` when it is NaN or infinite (a comparison
    with NaN is false, so ``below(abs(v), 1e30)`` holds only for finite v)."""
    from renderer.milk.preset import format_number

    v = variable.lower()
    return f"{v} = if(below(abs({v}), {GUARD_LIMIT}), {v}, {format_number(float(fallback))});"
