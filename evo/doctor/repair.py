"""``liandan doctor --repair``: a repaired copy of a preset, verified by rendering it again.

Repairs come in four rounds, each only when the one before did not give a healthy preset:

1. **fixes** for what the findings point at: values clamped into MilkDrop's valid range or into
   the safe range where the corpus shows values outside it going wrong, keys MilkDrop ignores dropped, statements and
   blocks MilkDrop does not run removed, a shader that does not run removed (what the player
   shows anyway: the MilkDrop 1 stage), a guard that resets a variable to a finite value right
   after the statement that can make it NaN or infinite;
2. **safe ranges**: every parameter into the central range of healthy presets ([lo, hi]);
3. **brightness** of a black or white-out picture: the parameters that usually cause it (gamma,
   decay, wave alpha and size, brighten/darken/invert, echo) just past the usual values;
4. **rescue** of a dead preset (black, white, frozen, flat, noise): crossbred with its nearest
   healthy presets (same family when families exist), MilkDrop 2's mash-up first (whole slots
   from the neighbour), then gene blends, the child nearest the original that renders healthy.

Every candidate is diagnosed again, render included (:func:`helps`): a repair is kept only when
it lowers the severity-weighted findings, adds no error and leaves no dead picture; else nothing is
written. The input is never modified: the caller writes the result elsewhere (evo.doctor.folder).
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from evo.doctor.findings import Diagnosis, Finding
from evo.genome import Genome, ShaderGene, canonical, full_param_items, genome_from_preset, genome_text
from evo.mining.safe_ranges import SafeRange, SafeRanges

RESCUE_NEIGHBOURS = 3
RESCUE_CROSSES = (("slots", 0.5), ("genes", 0.35), ("genes", 0.65))


@dataclass
class Change:
    action: str  # clamp | drop_key | drop_statements | empty_block | drop_shader | guard | safe_ranges | crossbreed
    target: str  # the key, section or shader it changed
    line: int | None
    before: str
    after: str
    why: str  # the finding's check (or the round's name)

    def to_json(self) -> dict:
        return dict(self.__dict__)


@dataclass
class RepairResult:
    file: str
    verdict: str  # repaired | not_helped | nothing_to_repair | unreadable
    text: str | None = None  # the repaired .milk (None unless verdict is repaired)
    changes: list[Change] = field(default_factory=list)
    before: Diagnosis | None = None
    after: Diagnosis | None = None
    before_still: np.ndarray | None = None
    after_still: np.ndarray | None = None
    tried: list[dict] = field(default_factory=list)  # each candidate: round, burden, dead, healthy
    parents: list[str] = field(default_factory=list)  # the rescue's neighbour, when one was used

    def to_json(self) -> dict:
        return {"file": self.file, "verdict": self.verdict, "changes": [c.to_json() for c in self.changes],
                "before": self.before.to_json() if self.before else None,
                "after": self.after.to_json() if self.after else None, "tried": self.tried, "parents": self.parents}


def helps(before: Diagnosis, after: Diagnosis) -> bool:
    """A repair helps when it lowers the weighted findings, adds no error and leaves nothing dead."""
    errors = lambda d: sum(f.severity == "error" for f in d.findings)  # noqa: E731
    if after.dead or (before.rendered and not after.rendered):
        return False
    return after.burden() < before.burden() and errors(after) <= errors(before)


# ---------------------------------------------------------------- round 1: fixes


def _owner(g: Genome, key: str):
    for full, owner, short, spec in full_param_items(g):
        if full == key:
            return owner, short, spec
    return None


def _base_value_of(g: Genome, variable: str) -> float:
    """The preset's own value of a built-in per-frame variable (a q, t or user variable: 0)."""
    from renderer.equations import BASE_KEYS

    for key, (_, eel) in BASE_KEYS.items():
        if eel == variable.lower():
            return float(g.params.get(key, 0.0))
    return 0.0


def apply_fixes(g: Genome, findings: list[Finding], ranges: SafeRanges | None) -> tuple[Genome, list[Change]]:
    """Round 1 on a copy of ``g``: one change per finding that has an automatic fix."""
    from evo.doctor.code_edits import with_guard, without_bad_statements
    from evo.doctor.probe import Statement
    from renderer.milk.preset import format_number

    g = g.copy()
    changes: list[Change] = []
    blocks = g.code_blocks()
    guarded: set[tuple[str, str]] = set()
    dropped_shaders: set[str] = set()
    cleaned: set[str] = set()
    for f in findings:
        if f.check in ("out_of_range", "outside_safe_range") and f.key:
            found = _owner(g, f.key)
            if found is None:
                continue
            owner, short, spec = found
            old = owner.get(short, spec.default)
            new = spec.clamp(old)
            if f.check == "outside_safe_range" and f.data.get("safe"):
                lo, hi = f.data["safe"]
                new = spec.clamp(min(max(old, lo), hi))
            if new != old:
                owner[short] = new
                changes.append(Change("clamp", f.key, f.line, format_number(old), format_number(new), f.check))
        elif f.check == "ignored_key" and f.key:
            kept = [(k, v) for k, v in g.unknown if k != f.key]
            if len(kept) != len(g.unknown):
                old = next(v for k, v in g.unknown if k == f.key)
                g.unknown = kept
                changes.append(Change("drop_key", f.key, f.line, old, "", f.check))
        elif f.check == "code_error" and f.key in blocks and blocks[f.key]:
            changes.append(Change("empty_block", f.key, f.line, f"{len(blocks[f.key])} lines", "", f.check))
            blocks[f.key][:] = []
        elif f.check == "code_statement_skipped" and f.key in blocks and f.key not in cleaned:
            cleaned.add(f.key)
            lines, dropped = without_bad_statements(blocks[f.key], f.key)
            if dropped:
                blocks[f.key][:] = lines
                changes.append(Change("drop_statements", f.key, f.line, "; ".join(s.text for s in dropped)[:500], "",
                                      f.check))
        elif f.check in ("shader_translate", "shader_fallback") and f.key:
            stage = f.key.removesuffix("_shader")
            if stage in ("warp", "comp") and stage not in dropped_shaders and getattr(g, stage).text:
                dropped_shaders.add(stage)
                setattr(g, stage, ShaderGene("", None))
                changes.append(Change("drop_shader", stage, f.line, f"{stage} shader", "MilkDrop 1 stage", f.check))
        elif f.check in ("nan_code", "nan_picture") and f.key in blocks:
            variable = f.data.get("variable")
            if not variable or (f.key, variable.lower()) in guarded:
                continue
            guarded.add((f.key, variable.lower()))
            st = f.data.get("statement")
            after = Statement(st["index"], st["text"], st["line"]) if st else None
            fallback = _base_value_of(g, variable) if f.key in ("per_frame", "per_pixel", "per_frame_init") else 0.0
            blocks[f.key][:] = with_guard(blocks[f.key], f.key, variable, fallback, after)
            changes.append(Change("guard", f.key, f.line, after.text if after else variable,
                                  f"{variable} reset to {format_number(fallback)} when not finite", f.check))
    return canonical(g), changes


# ---------------------------------------------------------------- round 2: safe ranges


def central_ranges(ranges: SafeRanges) -> SafeRanges:
    """The same ranges with their limits narrowed to [lo, hi]: ``evo.operators.repair`` clamps there."""
    return SafeRanges({k: SafeRange(r.lo, r.hi, r.typical, (r.lo, r.hi)) for k, r in ranges.ranges.items()},
                      ranges.source)


def into_safe_ranges(g: Genome, ranges: SafeRanges) -> tuple[Genome, list[Change]]:
    from evo.operators import repair as clamp_genome
    from renderer.milk.preset import format_number

    out = clamp_genome(g, central_ranges(ranges))
    changes = []
    before = {full: owner.get(short) for full, owner, short, _ in full_param_items(g)}
    for full, owner, short, _ in full_param_items(out):
        if owner.get(short) != before[full]:
            changes.append(Change("clamp", full, None, format_number(before[full]), format_number(owner[short]),
                                  "safe_ranges"))
    return out, changes


# ---------------------------------------------------------------- round 3: brightness


#: For a picture that is black or washes out: (key, "at least" | "at most", value). The usual
#: causes: a dim gamma, fast decay, invisible waves; or a bright gamma, no decay with additive
#: waves and the composite's brighten.
TONE = {
    "black": (("fGammaAdj", "min", 2.0), ("fDecay", "min", 0.95), ("fWaveAlpha", "min", 0.8), ("fWaveScale", "min", 1.0),
              ("bMaximizeWaveColor", "min", 1), ("bDarken", "max", 0), ("wave_r", "min", 0.5), ("wave_g", "min", 0.5),
              ("wave_b", "min", 0.5)),
    "white": (("fGammaAdj", "max", 1.5), ("fDecay", "max", 0.96), ("bBrighten", "max", 0), ("bInvert", "max", 0),
              ("fVideoEchoAlpha", "max", 0.3), ("fWaveAlpha", "max", 0.6), ("fWaveScale", "max", 1.0)),
}


def toned(g: Genome, reason: str) -> tuple[Genome, list[Change]]:
    """Round 3 for a black or white-out picture: the parameters that usually cause it moved just
    past the usual values (:data:`TONE`)."""
    from renderer.milk.preset import format_number

    g = g.copy()
    changes = []
    for key, side, bound in TONE.get(reason, ()):
        old = g.params[key]
        new = max(old, bound) if side == "min" else min(old, bound)
        if new != old:
            g.params[key] = new
            changes.append(Change("tone", key, None, format_number(old), format_number(new), reason))
    return canonical(g), changes


# ---------------------------------------------------------------- the repair


Diagnose = Callable[[str], tuple[Diagnosis, np.ndarray | None]]
Neighbours = Callable[[object], list[tuple[str, object]]]


def repair_preset(text: str, file: str, before: Diagnosis, before_still, diagnose: Diagnose,
                  ranges: SafeRanges | None = None, neighbours: Neighbours | None = None,
                  seed: int = 0) -> RepairResult:
    """Repair one preset (see the module docstring). ``diagnose(text)`` renders and diagnoses a
    candidate; ``neighbours(preset)`` returns (name, preset) of its nearest healthy presets."""
    from renderer.milk.preset import PresetError, parse_milk

    result = RepairResult(file, "nothing_to_repair", before=before, before_still=before_still)
    if any(f.check == "unreadable" for f in before.findings):
        result.verdict = "unreadable"
        return result
    if before.burden() == 0:
        return result
    try:
        preset = parse_milk(text, source=file)
    except PresetError:
        result.verdict = "unreadable"
        return result
    original = genome_from_preset(preset)
    fixed, changes = apply_fixes(original, before.findings, ranges)
    helped: list[tuple] = []  # (diagnosis, still, text, changes, parents) of every candidate that helps

    def attempt(name: str, g: Genome, ch: list[Change], parents: list[str]) -> tuple | None:
        """Diagnose a candidate; the candidate when it helps (and is kept in ``helped``)."""
        if not ch:
            return None
        candidate = genome_text(g)
        diag, still = diagnose(candidate)
        ok = helps(before, diag)
        result.tried.append({"round": name, "burden": diag.burden(), "dead": diag.dead, "healthy": diag.healthy,
                             "score": diag.render.get("score"), "helps": ok, "parents": parents})
        if not ok:
            return None
        helped.append((diag, still, candidate, ch, parents))
        return helped[-1]

    found = attempt("fixes", fixed, changes, [])
    if found is not None and found[0].healthy:
        return _done(result, found)
    if ranges is not None:
        safe, safe_changes = into_safe_ranges(fixed, ranges)
        found = attempt("safe ranges", safe, changes + safe_changes, [])
        if found is not None and found[0].healthy:
            return _done(result, found)
    dead_as = next((f.check for f in before.findings if f.check in TONE), None)
    if dead_as is not None:
        tone, tone_changes = toned(safe if ranges is not None else fixed, dead_as)
        found = attempt("brightness", tone, changes + (safe_changes if ranges is not None else []) + tone_changes, [])
        if found is not None and found[0].healthy:
            return _done(result, found)
    if before.dead and neighbours is not None:
        from evo.operators import crossbreed

        rng = random.Random(seed)
        for name, other in neighbours(preset)[:RESCUE_NEIGHBOURS]:
            mate = genome_from_preset(other)
            children = []
            for mode, ratio in RESCUE_CROSSES:  # every cross with this neighbour; the best score wins
                child = crossbreed(fixed, mate, ratio, rng=rng, mode=mode)
                ch = changes + [Change("crossbreed", name, None, "", f"{mode} {ratio:g}: "
                                       f"{', '.join(child.origin.get('from_b', [])[:12]) or 'blended values'}",
                                       "rescue")]
                found = attempt(f"rescue with {name}", child, ch, [name])
                if found is not None and found[0].healthy:
                    children.append(found)
            if children:
                return _done(result, max(children, key=lambda c: c[0].render.get("score") or 0.0))
    if helped:
        return _done(result, min(helped, key=lambda c: c[0].burden()))
    result.verdict = "not_helped"
    return result


def _done(result: RepairResult, best) -> RepairResult:
    diag, still, text, changes, parents = best
    result.verdict, result.text, result.after, result.after_still = "repaired", text, diag, still
    result.changes, result.parents = changes, parents
    return result
