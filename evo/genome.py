"""Preset <-> genome: the form the genetic algorithm varies, stores as JSON and hashes.

A preset is two kinds of heredity. Numbers (the ~70 base parameters and each wave's and shape's
parameters) vary by small steps, so they are genes with a type and a range from
:mod:`renderer.milk.params`. Code (equations, HLSL) only makes sense as a whole, so each code section,
each custom wave, each custom shape and each shader is one structural gene that crossover moves
whole. Everything else the file held (unknown keys, which keys it spelled out at their default
value, the version header) rides along so that a genome decodes to the same ``.milk`` it came
from.

Decoding goes through the real writer and reader (:func:`preset_from_genome` returns
``parse_milk(dump_milk(...))``), so the preset a genome decodes to is by construction exactly what
our parser reads back from the written file, line numbers included for error messages.
"""

from __future__ import annotations

import copy
import hashlib
import json
import math
import random
from dataclasses import dataclass, field
from typing import Any

from renderer.milk.params import N_SHAPES, N_WAVES, SCHEMA, SHAPE_SCHEMA, WAVE_SCHEMA, ParamSpec, spec_for
from renderer.milk.preset import (Preset, ShapeCode, WaveCode, base_defaults, code_key, default_params, dump_milk,
                                  mv_a_default, parse_milk)

GENOME_FORMAT = 1

#: Code sections of the preset body, as (genome attribute, .milk key prefix).
CODE_SECTIONS = (("init_code", "per_frame_init_"), ("per_frame_code", "per_frame_"), ("per_pixel_code", "per_pixel_"))


class GenomeError(ValueError):
    """A genome (usually from a saved run's JSON) that is not well formed."""


@dataclass
class ShaderGene:
    """A warp or comp shader with the pixel-shader version it was written for (they only work together)."""

    text: str = ""
    ps_version: int | None = None


@dataclass
class Genome:
    params: dict[str, float | int] = field(default_factory=base_defaults)
    waves: list[WaveCode] = field(default_factory=lambda: [WaveCode(k) for k in range(N_WAVES)])
    shapes: list[ShapeCode] = field(default_factory=lambda: [ShapeCode(k) for k in range(N_SHAPES)])
    init_code: list[str] = field(default_factory=list)
    per_frame_code: list[str] = field(default_factory=list)
    per_pixel_code: list[str] = field(default_factory=list)
    warp: ShaderGene = field(default_factory=ShaderGene)
    comp: ShaderGene = field(default_factory=ShaderGene)
    version: int | None = None
    ps_version: int | None = None
    #: Keys MilkDrop does not read, verbatim and in order (``bMotionVectorsOn``, other players' keys).
    unknown: list[tuple[str, str]] = field(default_factory=list)
    #: Parameter keys the source file spelled out although they hold the default (kept so the
    #: written file says what the author's file said; values that differ are always written),
    #: plus ``warp_1``/``comp_1`` for a shader that is one empty line rather than absent.
    explicit: list[str] = field(default_factory=list)
    #: How this genome came to be ({"op": "crossbreed", ...}); lineage for the engine, not a gene.
    origin: dict[str, Any] = field(default_factory=dict, compare=False)

    def code_blocks(self) -> dict[str, list[str]]:
        """Every EEL block by the section name :meth:`Preset.code_sections` uses."""
        out = {"per_frame_init": self.init_code, "per_frame": self.per_frame_code, "per_pixel": self.per_pixel_code}
        for k, w in enumerate(self.waves):
            for part, lines in w.code_blocks().items():
                out[f"wave{k}_{part}"] = lines
        for k, s in enumerate(self.shapes):
            for part, lines in s.code_blocks().items():
                out[f"shape{k}_{part}"] = lines
        return out

    def copy(self) -> "Genome":
        return copy.deepcopy(self)

    # ------------------------------------------------------------ JSON

    def to_json(self) -> dict[str, Any]:
        """Plain JSON types only (runs are stored as JSON, never pickle)."""
        return {
            "format": GENOME_FORMAT,
            "params": dict(self.params),
            "waves": [
                {"params": dict(w.params), "init": list(w.init), "per_frame": list(w.per_frame), "per_point": list(w.per_point)}
                for w in self.waves
            ],
            "shapes": [{"params": dict(s.params), "init": list(s.init), "per_frame": list(s.per_frame)} for s in self.shapes],
            "init_code": list(self.init_code),
            "per_frame_code": list(self.per_frame_code),
            "per_pixel_code": list(self.per_pixel_code),
            "warp": {"text": self.warp.text, "ps_version": self.warp.ps_version},
            "comp": {"text": self.comp.text, "ps_version": self.comp.ps_version},
            "version": self.version,
            "ps_version": self.ps_version,
            "unknown": [[k, v] for k, v in self.unknown],
            "explicit": list(self.explicit),
            "origin": copy.deepcopy(self.origin),
        }

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> "Genome":
        """Inverse of :meth:`to_json`; a malformed document raises :class:`GenomeError` saying what is wrong."""
        if not isinstance(d, dict):
            raise GenomeError(f"genome must be a JSON object, not {type(d).__name__}")
        fmt = d.get("format", GENOME_FORMAT)
        if fmt != GENOME_FORMAT:
            raise GenomeError(f"genome format {fmt!r} is not supported (expected {GENOME_FORMAT})")
        try:
            waves = _list(d, "waves", N_WAVES)
            shapes = _list(d, "shapes", N_SHAPES)
            return cls(
                params=_params(d.get("params", {}), SCHEMA, "params"),
                waves=[
                    WaveCode(
                        index=k,
                        params=_params(w.get("params", {}), WAVE_SCHEMA, f"waves[{k}].params"),
                        init=_lines(w, "init", f"waves[{k}]"),
                        per_frame=_lines(w, "per_frame", f"waves[{k}]"),
                        per_point=_lines(w, "per_point", f"waves[{k}]"),
                    )
                    for k, w in enumerate(waves)
                ],
                shapes=[
                    ShapeCode(
                        index=k,
                        params=_params(s.get("params", {}), SHAPE_SCHEMA, f"shapes[{k}].params"),
                        init=_lines(s, "init", f"shapes[{k}]"),
                        per_frame=_lines(s, "per_frame", f"shapes[{k}]"),
                    )
                    for k, s in enumerate(shapes)
                ],
                init_code=_lines(d, "init_code", "genome"),
                per_frame_code=_lines(d, "per_frame_code", "genome"),
                per_pixel_code=_lines(d, "per_pixel_code", "genome"),
                warp=_shader(d.get("warp", {}), "warp"),
                comp=_shader(d.get("comp", {}), "comp"),
                version=_opt_int(d.get("version"), "version"),
                ps_version=_opt_int(d.get("ps_version"), "ps_version"),
                unknown=[_pair(p, i) for i, p in enumerate(d.get("unknown", []))],
                explicit=[str(k) for k in d.get("explicit", [])],
                origin=dict(d.get("origin") or {}),
            )
        except GenomeError:
            raise
        except (TypeError, AttributeError, ValueError) as exc:
            raise GenomeError(f"malformed genome: {exc}") from exc


def _list(d: dict, key: str, n: int) -> list[dict]:
    value = d.get(key, [{} for _ in range(n)])
    if not isinstance(value, list) or len(value) != n or not all(isinstance(v, dict) for v in value):
        raise GenomeError(f"{key!r} must be a list of {n} objects")
    return value


def _params(raw: Any, schema: dict[str, ParamSpec], where: str) -> dict[str, float | int]:
    if not isinstance(raw, dict):
        raise GenomeError(f"{where} must be an object")
    out = base_defaults() if schema is SCHEMA else default_params(schema)
    for key, value in raw.items():
        spec = schema.get(key)
        if spec is None:
            raise GenomeError(f"{where}: unknown parameter {key!r}")
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise GenomeError(f"{where}.{key} must be a number, not {value!r}")
        out[key] = spec.coerce(value) if math.isfinite(value) else float(value)
    return out


def _lines(d: dict, key: str, where: str) -> list[str]:
    value = d.get(key, [])
    if not isinstance(value, list) or not all(isinstance(s, str) for s in value):
        raise GenomeError(f"{where}.{key} must be a list of strings")
    for s in value:
        if "\n" in s or "\r" in s:
            raise GenomeError(f"{where}.{key}: a code line holds a line break")
    return list(value)


def _shader(raw: Any, where: str) -> ShaderGene:
    if not isinstance(raw, dict) or not isinstance(raw.get("text", ""), str):
        raise GenomeError(f"{where} must be an object with a 'text' string")
    return ShaderGene(text=raw.get("text", ""), ps_version=_opt_int(raw.get("ps_version"), f"{where}.ps_version"))


def _opt_int(value: Any, where: str) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise GenomeError(f"{where} must be an integer or null, not {value!r}")
    return value


def _pair(p: Any, i: int) -> tuple[str, str]:
    if not isinstance(p, (list, tuple)) or len(p) != 2 or not all(isinstance(s, str) for s in p):
        raise GenomeError(f"unknown[{i}] must be a [key, value] pair of strings")
    return (p[0], p[1])


# ---------------------------------------------------------------- preset <-> genome


def key_default(full_key: str, unknown: list[tuple[str, str]]) -> float:
    if full_key == "mv_a":
        return mv_a_default(unknown)
    spec = spec_for(full_key)
    assert spec is not None, full_key
    return spec.default


def full_param_items(g: Genome):
    """(full .milk key, owning dict, short key, spec) for every numeric gene."""
    for key, spec in SCHEMA.items():
        yield key, g.params, key, spec
    for k, w in enumerate(g.waves):
        for short, spec in WAVE_SCHEMA.items():
            yield f"wavecode_{k}_{short}", w.params, short, spec
    for k, s in enumerate(g.shapes):
        for short, spec in SHAPE_SCHEMA.items():
            yield f"shapecode_{k}_{short}", s.params, short, spec


def genome_from_preset(preset: Preset) -> Genome:
    g = Genome(
        params=dict(preset.params),
        waves=[WaveCode(k, dict(w.params), list(w.init), list(w.per_frame), list(w.per_point)) for k, w in enumerate(preset.waves)],
        shapes=[ShapeCode(k, dict(s.params), list(s.init), list(s.per_frame)) for k, s in enumerate(preset.shapes)],
        init_code=list(preset.init_code),
        per_frame_code=list(preset.per_frame_code),
        per_pixel_code=list(preset.per_pixel_code),
        warp=ShaderGene(preset.warp_shader, preset.ps_version_warp),
        comp=ShaderGene(preset.comp_shader, preset.ps_version_comp),
        version=preset.version,
        ps_version=preset.ps_version,
        unknown=[(k, v) for k, v in preset.unknown],
        origin={"op": "seed", "source": preset.source} if preset.source else {"op": "seed"},
    )
    g.explicit = _explicit_at_default(g, preset.set_keys)
    return g


def _explicit_at_default(g: Genome, keys) -> list[str]:
    """The subset of ``keys`` the writer would drop: parameters at their default value."""
    keys = set(keys)
    out = [full for full, owner, short, _ in full_param_items(g)
           if full in keys and owner.get(short) == key_default(full, g.unknown)]
    # "warp_1=`" alone is a shader of one empty line, which the writer keeps only when told
    out += [f"{kind}_1" for kind in ("warp", "comp") if f"{kind}_1" in keys and not getattr(g, kind).text]
    return sorted(out)


def assemble_preset(g: Genome, source: str | None = None) -> Preset:
    """The preset model of a genome, before it goes through the writer and reader."""
    p = Preset(source=source)
    p.params = dict(g.params)
    p.waves = [WaveCode(k, dict(w.params), list(w.init), list(w.per_frame), list(w.per_point)) for k, w in enumerate(g.waves)]
    p.shapes = [ShapeCode(k, dict(s.params), list(s.init), list(s.per_frame)) for k, s in enumerate(g.shapes)]
    p.init_code = list(g.init_code)
    p.per_frame_code = list(g.per_frame_code)
    p.per_pixel_code = list(g.per_pixel_code)
    p.warp_shader, p.ps_version_warp = g.warp.text, g.warp.ps_version
    p.comp_shader, p.ps_version_comp = g.comp.text, g.comp.ps_version
    p.version, p.ps_version = g.version, g.ps_version
    p.unknown = list(g.unknown)
    p.set_keys = set(g.explicit)
    return p


def genome_text(g: Genome) -> str:
    """The ``.milk`` text of a genome."""
    return dump_milk(assemble_preset(g))


def preset_from_genome(g: Genome, source: str | None = None) -> Preset:
    """Decode through the writer and reader, so the result is what any reader of the file gets."""
    return parse_milk(genome_text(g), source=source or "<genome>")


# ---------------------------------------------------------------- canonical form


def colliding_unknown(g: Genome) -> list[tuple[str, str]]:
    """Unknown entries the reader would no longer keep as unknown once next to this genome's code.

    A gapped ``per_frame_12`` rides along as unknown; if a child's per-frame block grows to 11
    lines the reader would splice it into the code, so such keys are dropped by :func:`canonical`.
    """
    lengths = {"per_frame_init_": len(g.init_code), "per_frame_": len(g.per_frame_code), "per_pixel_": len(g.per_pixel_code),
               "warp_": len(g.warp.text.split("\n")) if g.warp.text else 0,
               "comp_": len(g.comp.text.split("\n")) if g.comp.text else 0}
    for k, w in enumerate(g.waves):
        for part, lines in w.code_blocks().items():
            lengths[f"wave_{k}_{part}"] = len(lines)
    for k, s in enumerate(g.shapes):
        for part, lines in s.code_blocks().items():
            lengths[f"shape_{k}_{part}"] = len(lines)
    out = []
    for key, value in g.unknown:
        parts = code_key(key)
        if parts is None:
            continue
        prefix, number = parts
        if prefix in lengths and number <= lengths[prefix] + 1:
            out.append((key, value))
    return out


def canonical(g: Genome) -> Genome:
    """Drop ride-along data that no longer fits the genes around it (a copy; ``g`` is unchanged).

    Used after variation so that ``genome_from_preset(preset_from_genome(g)) == g`` holds for
    every genome the operators produce.
    """
    out = g.copy()
    drop = colliding_unknown(out)
    if drop:
        out.unknown = [kv for kv in out.unknown if kv not in drop]
    out.explicit = _explicit_at_default(out, out.explicit)
    seen: set[str] = set()
    unique = []
    for key, value in out.unknown:  # the reader keeps the first occurrence only
        if key not in seen:
            seen.add(key)
            unique.append((key, value))
    out.unknown = unique
    return out


# ---------------------------------------------------------------- identity


def genome_id(g: Genome) -> str:
    """Stable content hash of everything MilkDrop reads (16 hex chars).

    ``explicit`` and ``origin`` are left out: they change the text of the file, not what it draws,
    so two genomes with the same id render the same and deduplicate. Float values hash by their
    ``repr``, which is exact and the same on every platform.
    """
    doc = g.to_json()
    for key in ("explicit", "origin", "format"):
        doc.pop(key, None)
    text = json.dumps(doc, sort_keys=True, separators=(",", ":"), allow_nan=True)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def shader_id(shader: ShaderGene) -> str:
    """Hash of one shader gene, for caching compiled programs by source."""
    text = json.dumps([shader.text, shader.ps_version])
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


# ---------------------------------------------------------------- random genomes


def random_genome(rng: random.Random, equations: bool = True) -> Genome:
    """A genome drawn from the schema: parameters in their typical ranges, a few simple equations.

    Most parameters keep MilkDrop's default half the time: a preset with every switch
    (invert, solarize, darken...) thrown at random is mostly an unreadable mess. Each custom wave
    and shape is on with some probability; those that are off keep their defaults and no code.
    """
    from evo.code_mutation import random_frame_equations, random_pixel_equations

    g = Genome(origin={"op": "random"})
    for key, spec in SCHEMA.items():
        if key == "fRating":
            continue
        if rng.random() < 0.5:
            g.params[key] = draw_value(spec, rng)
    for k in range(N_WAVES):
        if rng.random() < 0.3:
            g.waves[k] = random_wave(rng, k, equations)
    for k in range(N_SHAPES):
        if rng.random() < 0.35:
            g.shapes[k] = random_shape(rng, k, equations)
    if equations:
        g.per_frame_code = random_frame_equations(rng, rng.randint(1, 4))
        g.per_pixel_code = random_pixel_equations(rng, rng.randint(0, 2))
    return canonical(g)


def draw_value(spec: ParamSpec, rng: random.Random) -> float | int:
    """One value in the typical range (floats rounded to 4 decimals so written files stay readable)."""
    if spec.type in ("bool", "enum") and spec.choices:
        return int(rng.choice(spec.choices))
    lo, hi = spec.typical
    if spec.type == "int":
        return int(rng.randint(int(lo), int(hi)))
    return round(rng.uniform(lo, hi), 4)


def random_wave(rng: random.Random, index: int, code: bool = True) -> WaveCode:
    """An enabled custom wave with parameters from the typical ranges and generated per-point code."""
    from evo.code_mutation import random_wave_code

    w = WaveCode(index, params={short: draw_value(spec, rng) for short, spec in WAVE_SCHEMA.items()})
    w.params["enabled"] = 1
    if code:
        w.per_point = random_wave_code(rng)
    return w


def random_shape(rng: random.Random, index: int, code: bool = True) -> ShapeCode:
    """An enabled custom shape: typical-range parameters, few instances, modest size."""
    from evo.code_mutation import random_shape_code

    s = ShapeCode(index, params={short: draw_value(spec, rng) for short, spec in SHAPE_SCHEMA.items()})
    s.params["enabled"] = 1
    s.params["num_inst"] = rng.choice((1, 1, 1, 2, 3, 5))
    s.params["rad"] = round(rng.uniform(0.03, 0.4), 4)
    if code:
        s.per_frame = random_shape_code(rng)
    return s
