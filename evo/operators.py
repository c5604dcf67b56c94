"""Variation operators on genomes: crossbreed, mutate, repair (and a seeded tournament).

All operators are pure (they return a new genome and never touch their inputs) and draw every
random number from the ``random.Random`` they are given, so a child is a function of its parents
and the generator's state. Each child records how it was made in ``genome.origin`` (``op`` plus
details) so the engine can save lineage.

Gene kinds follow the parameter schema: floats are continuous (blended, gaussian steps scaled to the
typical range, clamped to the valid range); bools and enums are discrete (taken from a parent or
flipped); code sections, custom waves, custom shapes and shaders are structural blocks moved whole.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, fields
from typing import Any

from renderer.milk.params import SCHEMA, SHAPE_SCHEMA, WAVE_SCHEMA, ParamSpec

from evo.code_mutation import (
    block_compiles,
    perturb_constants,
    random_frame_equation,
    random_pixel_equation,
)
from evo.genome import Genome, ShaderGene, canonical, full_param_items, random_shape, random_wave
from evo.mining.safe_ranges import SafeRange, SafeRanges

# ---------------------------------------------------------------- MilkDrop 2's mash-up slots

#: MilkDrop 2's preset mash-up (``CState::Import`` flags) splits a preset into five parts that can
#: each come from a different preset. Base keys by slot, as MilkDrop 2 assigns them:
_GENERAL = ("fRating", "fGammaAdj", "fDecay", "fVideoEchoZoom", "fVideoEchoAlpha", "nVideoEchoOrientation",
            "bRedBlueStereo", "bBrighten", "bDarken", "bTexWrap", "bDarkenCenter", "bSolarize", "bInvert",
            "fShader", "b1n", "b2n", "b3n", "b1x", "b2x", "b3x", "b1ed")
_MOTION = ("fWarpAnimSpeed", "fWarpScale", "fZoomExponent", "zoom", "rot", "cx", "cy", "dx", "dy", "warp",
           "sx", "sy", "ob_size", "ob_r", "ob_g", "ob_b", "ob_a", "ib_size", "ib_r", "ib_g", "ib_b", "ib_a")
SLOT_KEYS: dict[str, tuple[str, ...]] = {
    "general": _GENERAL,
    "motion": _MOTION,
    "wave": tuple(k for k in SCHEMA if k not in _GENERAL and k not in _MOTION),
    "warp": (),
    "comp": (),
}
#: Structural blocks by slot (motion owns the equations, wave owns custom waves and shapes).
SLOT_BLOCKS: dict[str, tuple[str, ...]] = {
    "general": (),
    "motion": ("init_code", "per_frame_code", "per_pixel_code"),
    "wave": tuple(f"wave{k}" for k in range(4)) + tuple(f"shape{k}" for k in range(4)),
    "warp": ("warp",),
    "comp": ("comp",),
}
SLOTS = tuple(SLOT_KEYS)

#: Block names of :func:`crossbreed` in gene mode. The init code travels with the per-frame code:
#: the per-frame equations read what the init code set up (q variables, counters).
BLOCKS = ("per_frame_code", "per_pixel_code", "warp", "comp") + SLOT_BLOCKS["wave"]


def _get_block(g: Genome, name: str):
    if name.startswith("wave"):
        return g.waves[int(name[4:])]
    if name.startswith("shape"):
        return g.shapes[int(name[5:])]
    return getattr(g, name)


def _set_block(g: Genome, name: str, value) -> None:
    import copy

    value = copy.deepcopy(value)
    if name.startswith("wave"):
        g.waves[int(name[4:])] = value
    elif name.startswith("shape"):
        g.shapes[int(name[5:])] = value
    else:
        setattr(g, name, value)


# ---------------------------------------------------------------- crossbreed


def crossbreed(a: Genome, b: Genome, ratio: float = 0.5, rng: random.Random | None = None, mode: str = "genes",
               decimals: int | None = 6) -> Genome:
    """A child of ``a`` and ``b``; ``ratio`` 0 is all ``a``, 1 is all ``b``.

    ``mode="genes"``: each float is ``a + ratio*(b - a)``; each bool/enum and each block (code
    section, wave, shape, shader) comes from ``b`` with probability ``ratio``.
    ``mode="slots"``: MilkDrop 2's mash-up: each of the five slots (general, motion, wave, warp,
    comp) comes whole from ``b`` with probability ``ratio``, values copied, not blended.
    Unknown keys and the header ride along from ``a`` (the header is fixed up for the shaders).
    Blends are rounded to ``decimals`` (None: unrounded, as runs made before rounding existed).
    """
    if not 0.0 <= ratio <= 1.0 or math.isnan(ratio):
        raise ValueError(f"ratio must be between 0 and 1, not {ratio}")
    if mode not in ("genes", "slots"):
        raise ValueError(f"mode must be 'genes' or 'slots', not {mode!r}")
    rng = rng if rng is not None else random.Random(0)
    child = a.copy()
    from_b: list[str] = []
    if mode == "slots":
        for slot in SLOTS:
            if _take_b(rng, ratio):
                from_b.append(slot)
                for key in SLOT_KEYS[slot]:
                    child.params[key] = b.params[key]
                for name in SLOT_BLOCKS[slot]:
                    _set_block(child, name, _get_block(b, name))
    else:
        for key, spec in SCHEMA.items():
            va, vb = a.params[key], b.params[key]
            if spec.type == "float":
                child.params[key] = _blend(va, vb, ratio, decimals)
            elif _take_b(rng, ratio):
                child.params[key] = vb
                if va != vb:
                    from_b.append(key)
        for name in BLOCKS:
            if _take_b(rng, ratio):
                _set_block(child, name, _get_block(b, name))
                if name == "per_frame_code":
                    child.init_code = list(b.init_code)
                from_b.append(name)
    _fix_header(child, a, b)
    child = canonical(child)
    child.origin = {"op": "crossbreed", "mode": mode, "ratio": ratio, "from_b": from_b}
    return child


def _take_b(rng: random.Random, ratio: float) -> bool:
    """One draw per gene even at ratio 0 or 1, so the random stream does not depend on ratio."""
    return rng.random() < ratio


def _blend(va: float, vb: float, ratio: float, decimals: int | None) -> float:
    """Rounded to ``decimals`` (6: as MilkDrop writes numbers), the child's file holds exactly the
    value its genome has (no ``42.699998799999996``) and reads back to what was evaluated."""
    if ratio == 0.0:
        return va
    if ratio == 1.0:
        return vb
    value = va + ratio * (vb - va)
    return value if decimals is None else round(value, decimals)


def _fix_header(child: Genome, a: Genome, b: Genome) -> None:
    """A child holding an MD2 shader needs an MD2 header whose PSVERSION covers both shaders."""
    shader_ps = [v for v in (child.warp.ps_version, child.comp.ps_version) if v is not None]
    if shader_ps:
        versions = [v for v in (a.version, b.version) if v is not None]
        child.version = max(versions) if versions else 201
        child.ps_version = max(shader_ps)
    elif not (child.warp.text or child.comp.text):
        child.version, child.ps_version = a.version, a.ps_version


# ---------------------------------------------------------------- mutation


@dataclass
class MutationRates:
    """How much :func:`mutate` changes. Probabilities are per gene / per block / per literal."""

    param: float = 0.08          # each float/int parameter (base + enabled waves/shapes) takes a gaussian step
    sigma: float = 0.15          # that step's sd, as a fraction of the parameter's typical range
    flip: float = 0.03           # each bool/enum gene changes value
    code_block: float = 0.3      # each non-empty code block gets its constants perturbed
    constant: float = 0.3        # ... each literal in such a block changes
    constant_sigma: float = 0.2  # ... by a gaussian step of this fraction of its size
    toggle_block: float = 0.04   # each custom wave/shape is switched on/off
    new_equation: float = 0.1    # a generated equation is appended to per-frame (and again for per-pixel)
    drop_line: float = 0.03      # one line of per-frame or per-pixel code is removed (if it still compiles)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "MutationRates":
        names = {f.name for f in fields(cls)}
        unknown = sorted(set(d) - names)
        if unknown:
            raise ValueError(f"unknown mutation rate(s) {unknown}; known: {sorted(names)}")
        out = cls(**{k: float(v) for k, v in d.items()})
        for f in fields(out):
            v = getattr(out, f.name)
            if not math.isfinite(v) or v < 0:
                raise ValueError(f"mutation rate {f.name}={v} must be a finite number >= 0")
        return out


#: Parameters whose change cannot show in a picture; mutating them wastes an evaluation.
INERT = frozenset({"fRating"})


def mutate(genome: Genome, rng: random.Random, rates: MutationRates | None = None,
           ranges: SafeRanges | None = None) -> Genome:
    """A mutated copy: at least one gene always changes, and the result is repaired.

    ``ranges`` (safe ranges mined from a corpus, evo.mining.safe_ranges): numeric steps are sized
    by the corpus's typical width and never leave its safe range further than the value was, and
    repair clamps into its limits; None keeps the schema's ranges. The same random numbers are
    drawn either way."""
    rates = rates or MutationRates()
    g = genome.copy()
    changes: list[str] = []
    _mutate_params(g, rng, rates, changes, ranges)
    _mutate_blocks(g, rng, rates, changes)
    _mutate_code(g, rng, rates, changes)
    if not changes:  # a no-op child would only cost an evaluation
        _force_step(g, rng, rates, changes, ranges)
    g = repair(g, ranges)
    g.origin = {"op": "mutate", "changes": changes}
    return g


def _live_params(g: Genome):
    """Numeric genes that can show: base parameters plus those of enabled waves and shapes."""
    for full, owner, short, spec in full_param_items(g):
        if full in INERT or short == "enabled":
            continue
        if full.startswith("wavecode_") and not g.waves[int(full.split("_")[1])].enabled:
            continue
        if full.startswith("shapecode_") and not g.shapes[int(full.split("_")[1])].enabled:
            continue
        yield full, owner, short, spec


def step_value(value: float, spec: ParamSpec, rng: random.Random, sigma: float,
               safe: SafeRange | None = None) -> float | int:
    """A gaussian step scaled to the typical range, kept inside the valid range. Given a corpus
    ``safe`` range: scaled to its typical width, and never further out of [lo, hi] than ``value``
    was (a seed's own extreme value survives; mutation makes no new ones)."""
    lo, hi = safe.typical if safe is not None and safe.width > 0 else spec.typical
    width = (hi - lo) or (spec.valid[1] - spec.valid[0]) or 1.0
    new = value + rng.gauss(0.0, sigma * width)
    if spec.type == "int":
        new = int(round(new))
        if new == value:
            new = value + rng.choice((-1, 1))
    if safe is not None:
        new = min(max(new, min(safe.lo, value)), max(safe.hi, value))
    new = spec.clamp(min(max(new, spec.valid[0]), spec.valid[1]))
    return round(new, 6) if isinstance(new, float) else new


def flip_value(value: int, spec: ParamSpec, rng: random.Random) -> int:
    choices = [c for c in (spec.choices or (0, 1)) if c != value]
    return int(rng.choice(choices)) if choices else int(value)


def _mutate_params(g: Genome, rng: random.Random, rates: MutationRates, changes: list[str],
                   ranges: SafeRanges | None = None) -> None:
    for full, owner, short, spec in _live_params(g):
        if spec.type in ("float", "int"):
            if rng.random() < rates.param:
                owner[short] = step_value(owner[short], spec, rng, rates.sigma, ranges and ranges.for_key(full))
                changes.append(full)
        elif rng.random() < rates.flip:
            owner[short] = flip_value(owner[short], spec, rng)
            changes.append(full)


def _mutate_blocks(g: Genome, rng: random.Random, rates: MutationRates, changes: list[str]) -> None:
    for kind, blocks in (("wave", g.waves), ("shape", g.shapes)):
        for k, block in enumerate(blocks):
            if rng.random() < rates.toggle_block:
                block.params["enabled"] = 0 if block.enabled else 1
                changes.append(f"{kind}{k}:{'on' if block.enabled else 'off'}")
                if block.enabled and not any(block.code_blocks().values()):
                    # switched on with nothing of its own: a fresh generated block, not a default square
                    blocks[k] = random_wave(rng, k) if kind == "wave" else random_shape(rng, k)


def _mutate_code(g: Genome, rng: random.Random, rates: MutationRates, changes: list[str]) -> None:
    for section, lines in _code_slots(g):
        if not lines or rng.random() >= rates.code_block:
            continue
        new, n = perturb_constants(lines, rng, rates.constant, rates.constant_sigma, section)
        if n:
            lines[:] = new
            changes.append(f"{section}:{n} const")
    for attr, make in (("per_frame_code", random_frame_equation), ("per_pixel_code", random_pixel_equation)):
        lines = getattr(g, attr)
        if rng.random() < rates.new_equation:
            eq = make(rng)
            # a last line without ';' would glue onto the new one (lines join with no separator)
            for trial in (lines + [eq], lines + [";" + eq]):
                if block_compiles(trial, attr):
                    lines[:] = trial
                    changes.append(f"{attr}:+eq")
                    break
        if lines and rng.random() < rates.drop_line:
            i = rng.randrange(len(lines))
            trial = lines[:i] + lines[i + 1 :]
            if block_compiles(trial, attr):
                lines[:] = trial
                changes.append(f"{attr}:-line{i + 1}")


def _code_slots(g: Genome):
    """(section name, the genome's own list) for every EEL block, in a fixed order."""
    yield "per_frame_init", g.init_code
    yield "per_frame", g.per_frame_code
    yield "per_pixel", g.per_pixel_code
    for k, w in enumerate(g.waves):
        if w.enabled:
            yield f"wave{k}_init", w.init
            yield f"wave{k}_per_frame", w.per_frame
            yield f"wave{k}_per_point", w.per_point
    for k, s in enumerate(g.shapes):
        if s.enabled:
            yield f"shape{k}_init", s.init
            yield f"shape{k}_per_frame", s.per_frame


def _force_step(g: Genome, rng: random.Random, rates: MutationRates, changes: list[str],
                ranges: SafeRanges | None = None) -> None:
    live = [item for item in _live_params(g) if item[3].type in ("float", "int")]
    full, owner, short, spec = live[rng.randrange(len(live))]
    old = owner[short]
    for _ in range(8):
        owner[short] = step_value(old, spec, rng, max(rates.sigma, 0.05), ranges and ranges.for_key(full))
        if owner[short] != old:
            break
    changes.append(full)


# ---------------------------------------------------------------- repair


def repair(genome: Genome, ranges: SafeRanges | None = None) -> Genome:
    """Values back inside their valid ranges (NaN/inf -> default), types coerced, text made writable;
    with corpus ``ranges``, numeric values also inside their ``limits`` (the span healthy corpus
    presets use, so no such preset is changed by it).

    The clamp part of a preset doctor: what comes out is a genome every MilkDrop reads the same.
    """
    g = genome.copy()
    for full, owner, short, spec in full_param_items(g):
        value = owner.get(short, spec.default)
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            value = spec.default
        safe = ranges.for_key(full) if ranges is not None and spec.type in ("float", "int") else None
        if safe is not None and math.isfinite(value):
            value = min(max(value, safe.limits[0]), safe.limits[1])
        owner[short] = spec.clamp(value)
        if spec.type == "float" and owner[short] == 0.0:
            owner[short] = 0.0  # no -0.0: it would hash differently from 0.0
    for _, lines in _all_code(g):
        lines[:] = [_one_line(s) for s in lines]
    for shader in (g.warp, g.comp):
        shader.text = shader.text.replace("\r\n", "\n").replace("\r", "\n").replace("\x00", "")
        shader.ps_version = _opt_int(shader.ps_version)
    g.version, g.ps_version = _opt_int(g.version), _opt_int(g.ps_version)
    g.unknown = [(k, _one_line(v)) for k, v in g.unknown if _writable_unknown_key(k)]
    return canonical(g)


def _all_code(g: Genome):
    yield "per_frame_init", g.init_code
    yield "per_frame", g.per_frame_code
    yield "per_pixel", g.per_pixel_code
    for w in g.waves:
        yield "wave", w.init
        yield "wave", w.per_frame
        yield "wave", w.per_point
    for s in g.shapes:
        yield "shape", s.init
        yield "shape", s.per_frame


def _one_line(text: str) -> str:
    """MilkDrop joins code lines with no separator, so dropping line breaks keeps the meaning."""
    return str(text).replace("\r", "").replace("\n", "").replace("\x00", "")


def _opt_int(value) -> int | None:
    if value is None or isinstance(value, bool):
        return None
    try:
        return int(value)
    except (TypeError, ValueError, OverflowError):
        return None


def _writable_unknown_key(key: str) -> bool:
    """An unknown key survives writing only if it is one token a reader gives back as unknown."""
    from renderer.milk.params import HEADER_KEYS, spec_for

    if not key or any(c in key for c in " \t=\r\n\x00[]") or key in HEADER_KEYS:
        return False
    return spec_for(key) is None


__all__ = [
    "BLOCKS", "INERT", "MutationRates", "SLOTS", "SLOT_BLOCKS", "SLOT_KEYS", "ShaderGene",
    "crossbreed", "flip_value", "mutate", "repair", "step_value",
]
