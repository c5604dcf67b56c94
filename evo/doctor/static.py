"""The doctor's checks of the file alone: what MilkDrop reads, what it accepts, what the code and
shaders do before a single frame is drawn.

Each check is a small function ``(ctx) -> list[Finding]`` over a :class:`StaticContext` (the
parsed preset, the raw lines for line numbers, the safe ranges); :func:`static_findings` runs them
all. The NaN/loop probe (evo.doctor.probe) runs the equations without GL, so it belongs here too.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from renderer.milk.params import key_status, keyed_lines, spec_for
from renderer.milk.preset import Preset, format_number

from evo.doctor.findings import Finding, finding
from evo.mining.safe_ranges import SafeRanges

#: Section names as a preset author reads them in the file.
SECTION_WORDS = {"per_frame_init": "per-frame init code", "per_frame": "per-frame code", "per_pixel": "per-pixel code"}


def section_words(section: str) -> str:
    if section in SECTION_WORDS:
        return SECTION_WORDS[section]
    kind, _, part = section.partition("_")
    noun = "custom wave" if kind.startswith("wave") else "custom shape"
    return f"{noun} {kind[-1]}'s {part.replace('_', '-')} code"


RISK_FACTOR = 1.5
RISK_FLOOR = 0.25
"""A value outside a parameter's safe range [lo, hi] is a finding only where the corpus shows the
risk: presets outside it render degenerate at least 1.5 times as often as those inside, and at
least 25% of the time (fGammaAdj: 35% against 8%; zoom: 6% against 10%, so an unusual zoom is not
reported). Wave and shape settings have no such figures and are not checked against it."""


@dataclass
class StaticContext:
    preset: Preset
    file: str
    text: str
    ranges: SafeRanges | None = None
    key_lines: dict[str, int] = field(default_factory=dict)  # first line of each key in the file
    risks: dict[str, tuple[float, float]] = field(default_factory=dict)  # key -> degenerate share inside, outside

    @classmethod
    def make(cls, preset: Preset, file: str, text: str, ranges: SafeRanges | None) -> "StaticContext":
        lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
        first: dict[str, int] = {}
        for key, lineno, _ in keyed_lines(lines):
            first.setdefault(key, lineno)
        return cls(preset, file, text, ranges, first, load_risks(ranges.source) if ranges is not None else {})

    def line(self, key: str) -> int | None:
        return self.preset.line_of.get(key) or self.key_lines.get(key)

    def section_line(self, section: str, line: int | None) -> int | None:
        if not line:
            return None
        return self.preset.line_of.get(self.preset.section_key(section, line)) or self.key_lines.get(
            self.preset.section_key(section, line))


_RISKS: dict[str, dict] = {}


def load_risks(path: str) -> dict[str, tuple[float, float]]:
    """key -> (degenerate share inside [lo, hi], outside) from a safe-ranges file (cached per path)."""
    import json

    if path not in _RISKS:
        out = {}
        try:
            params = json.loads(Path(path).read_text()).get("params", {})
        except (OSError, ValueError):
            params = {}
        for key, e in params.items():
            inside, outside = e.get("degenerate_inside"), e.get("degenerate_outside")
            if isinstance(inside, (int, float)) and isinstance(outside, (int, float)):
                out[key] = (float(inside), float(outside))
        _RISKS[path] = out
    return _RISKS[path]


def set_values(preset: Preset):
    """(full key, value, spec) of every parameter the file sets (enabled or not)."""
    for key in sorted(preset.set_keys):
        spec = spec_for(key)
        if spec is None:
            continue
        if key.startswith("wavecode_"):
            k, short = key.split("_", 2)[1:]
            value = preset.waves[int(k)].params.get(short, spec.default)
        elif key.startswith("shapecode_"):
            k, short = key.split("_", 2)[1:]
            value = preset.shapes[int(k)].params.get(short, spec.default)
        else:
            value = preset.params.get(key, spec.default)
        yield key, value, spec


def written_by_code(preset: Preset) -> set[str]:
    """Base keys whose value the per-frame or per-pixel code assigns (the file's value never shows)."""
    from evo.mining.code_features import code_features
    from renderer.frame_state import MILK_TO_VAR
    from renderer.milk.params import SCHEMA

    feats = code_features(preset)
    out = set()
    for key in SCHEMA:
        var = MILK_TO_VAR.get(key, key).lower()
        if feats.get(f"code_pf_{var}") or feats.get(f"code_pp_{var}"):
            out.add(key)
    return out


def _in_use(preset: Preset, key: str) -> bool:
    """A wave's or shape's setting only matters when it is enabled."""
    for prefix, items in (("wavecode_", preset.waves), ("shapecode_", preset.shapes)):
        if key.startswith(prefix):
            return bool(items[int(key.split("_")[1])].params.get("enabled", 0))
    return True


def check_reader_notes(ctx: StaticContext) -> list[Finding]:
    return [finding("reader_note", ctx.file, w.line, w.message) for w in ctx.preset.warnings]


def check_ranges(ctx: StaticContext) -> list[Finding]:
    out = []
    overwritten = written_by_code(ctx.preset)
    for key, value, spec in set_values(ctx.preset):
        line = ctx.line(key)
        lo, hi = spec.valid
        if spec.type == "enum" and spec.choices and int(value) not in spec.choices:
            what = "plays it as " + format_number(spec.clamp(value)) if spec.wraps else "falls back to the default"
            out.append(finding("out_of_range", ctx.file, line, f"{key}={format_number(value)} is not one of MilkDrop's "
                               f"choices ({lo}..{hi}); MilkDrop {what}.", f"set {key} to {format_number(spec.clamp(value))}",
                               key, value=value, valid=[lo, hi]))
            continue
        if not lo <= value <= hi:
            out.append(finding("out_of_range", ctx.file, line, f"{key}={format_number(value)} is outside the range MilkDrop "
                               f"accepts ({format_number(lo)}..{format_number(hi)}).",
                               f"clamp {key} to {format_number(spec.clamp(value))}", key, value=value, valid=[lo, hi]))
            continue
        safe = ctx.ranges.for_key(key) if ctx.ranges is not None and spec.type in ("float", "int") else None
        risk = ctx.risks.get(key)
        if safe is None or risk is None or key in overwritten or not _in_use(ctx.preset, key):
            continue
        a, b = safe.lo, safe.hi
        inside, outside = risk
        if not a <= value <= b and outside >= RISK_FACTOR * inside and outside >= RISK_FLOOR:
            near = min(max(value, a), b)
            out.append(finding("outside_safe_range", ctx.file, line,
                               f"{key}={format_number(value)} is outside what 95% of healthy presets use "
                               f"({format_number(a)}..{format_number(b)}); in the corpus, presets out there render "
                               f"black, white, frozen or flat {outside:.0%} of the time, against {inside:.0%} inside.",
                               f"clamp {key} to {format_number(near)}", key, value=value, safe=[a, b],
                               degenerate_inside=inside, degenerate_outside=outside))
    return out


def check_keys(ctx: StaticContext) -> list[Finding]:
    out = []
    for key, _ in ctx.preset.unknown:
        status = key_status(key)
        if status in ("legacy", "header"):
            continue
        if status == "ignored":
            why = "another player's extension; MilkDrop 2 never reads it"
        elif status == "out_of_range":
            why = "MilkDrop has four custom waves and four custom shapes (0..3)"
        elif any(key.startswith(p) for p in ("per_frame", "per_pixel", "warp_", "comp_", "wave_", "shape_")):
            why = "a code line after a gap in the numbering; MilkDrop stops reading the block at the gap"
        else:
            why = "not a key MilkDrop reads (a typo, or another program's)"
        out.append(finding("ignored_key", ctx.file, ctx.line(key), f"{key} is ignored: {why}.",
                           f"drop {key}", key, status=status))
    return out


def check_code(ctx: StaticContext) -> list[Finding]:
    from renderer.milk.inspect import compile_sections

    out = []
    for f in compile_sections(ctx.preset):
        section = f["section"]
        line = f.get("file_line") or ctx.section_line(section, f.get("line"))
        if f.get("skipped"):
            msg = (f"A statement in the {section_words(section)} does not compile ({f['error'].split(' (statement')[0]}); "
                   "MilkDrop 2 leaves it out and runs the rest of the block.")
            out.append(finding("code_statement_skipped", ctx.file, line, msg, "remove the statement MilkDrop leaves out",
                               section, error=f["error"]))
        else:
            msg = (f"The {section_words(section)} does not compile ({f['error']}); MilkDrop runs none of this block, "
                   "everything else of the preset still plays.")
            out.append(finding("code_error", ctx.file, line, msg, "remove the block MilkDrop does not run", section,
                               error=f["error"]))
    return out


def check_probe(ctx: StaticContext) -> list[Finding]:
    from evo.doctor.probe import probe

    out = []
    for t in probe(ctx.preset).troubles:
        line = ctx.section_line(t.section, t.statement.line if t.statement else 1)
        where = f"`{_short(t.statement.text)}`" if t.statement else "this block"
        if t.kind == "loop":
            msg = (f"In the {section_words(t.section)}, {where} loops 2^20 times or more in one frame "
                   f"({t.steps:,} steps; {t.scenario}, frame {t.frame}): MilkDrop stops it there, and every frame stalls.")
            out.append(finding("loop_cap", ctx.file, line, msg, None, t.section, **t.to_json()))
            continue
        msg = (f"In the {section_words(t.section)}, {where} can make {t.variable} NaN or infinite "
               f"({t.cause}; seen with {t.scenario} at frame {t.frame}).")
        out.append(finding("nan_code", ctx.file, line, msg, f"reset {t.variable} to a finite value right after it",
                           t.section, **t.to_json()))
    return out


def check_shaders(ctx: StaticContext) -> list[Finding]:
    from renderer.shaders.status import translate_status

    out = []
    p = ctx.preset
    for stage, text, ps in zip(("warp", "comp"), (p.warp_shader, p.comp_shader), p.shader_versions()):
        if not ps or not text.strip():
            continue
        ok, why = translate_status(text, stage)
        if not ok:
            out.append(finding("shader_translate", ctx.file, ctx.line(f"{stage}_1"),
                               f"The {stage} shader does not translate ({why}); players fall back to the "
                               f"MilkDrop 1 {stage} stage, which looks different.", f"remove the {stage} shader",
                               f"{stage}_shader", error=why))
    return out


def _short(text: str, n: int = 60) -> str:
    text = " ".join(text.split())
    return text if len(text) <= n else text[: n - 1] + "…"


STATIC_CHECKS = (check_reader_notes, check_ranges, check_keys, check_code, check_probe, check_shaders)


def static_findings(preset: Preset, file: str, text: str, ranges: SafeRanges | None = None,
                    checks=STATIC_CHECKS) -> list[Finding]:
    """Every static finding of one parsed preset. A check that crashes is a finding, not a stop."""
    ctx = StaticContext.make(preset, file, text, ranges)
    out: list[Finding] = []
    for check in checks:
        try:
            out.extend(check(ctx))
        except Exception as exc:  # noqa: BLE001 - a doctor bug must not hide the other findings
            out.append(finding("reader_note", file, None, f"the {check.__name__} check failed: "
                               f"{type(exc).__name__}: {exc}", severity="warning"))
    return out


def unreadable(file: str | Path, exc) -> Finding:
    line = getattr(exc, "line", None)
    message = getattr(exc, "message", str(exc))
    return finding("unreadable", str(file), line, f"MilkDrop cannot use this file: {message}.")
