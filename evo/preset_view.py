"""What the UI shows of one preset, and its evaluation the way a run would score it.

The UI reads presets only through here (as it reads runs only through ``evo.store``): the
``.milk`` reader, the parameter schema and the renderer stay behind ``evo``.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field, replace
from pathlib import Path

from renderer.preset import PresetError, code_text, format_number, load_milk, parse_milk


@dataclass
class PresetView:
    """One parsed preset as rows and counts; ``error`` (file and line) when it does not parse."""

    name: str
    error: str | None = None
    parameters: list[dict] = field(default_factory=list)  # parameter, value, default, note
    code: list[tuple[str, str]] = field(default_factory=list)  # (section, joined text)
    waves: int = 0  # enabled custom waves
    shapes: int = 0  # enabled custom shapes
    shaders: dict[str, str] = field(default_factory=dict)  # "warp"/"comp" -> HLSL text

    @property
    def has_shaders(self) -> bool:
        return bool(self.shaders)


def view_milk(text: str, name: str) -> PresetView:
    """The rows the Preset page lists: base parameters that differ from MilkDrop's defaults (what
    the author actually chose), each non-empty code section, the shaders."""
    from renderer.cli_preset import changed_params

    try:
        preset = parse_milk(text, source=name)
    except PresetError as exc:
        return PresetView(name, error=str(exc))
    rows = [{"parameter": k, "value": format_number(v), "default": format_number(d), "note": note}
            for k, v, d, note in changed_params(preset)]
    code = []
    for section, lines in preset.code_sections().items():
        joined = code_text(lines)[0] if lines else ""
        if joined.strip():
            code.append((section, joined))
    shaders = {stage: t for stage, t in (("warp", preset.warp_shader), ("comp", preset.comp_shader)) if t.strip()}
    return PresetView(name, None, rows, code, sum(w.enabled for w in preset.waves),
                      sum(s.enabled for s in preset.shapes), shaders)


def evaluate_milk_file(milk: Path, out_dir: Path, frames: int = 60, size: int = 128) -> dict:
    """Render and score one ``.milk`` file with the engine's own evaluation (so a bred child's
    preview, still and score are what a run would give it) into ``out_dir``: preview.webp,
    still.png and result.json. Creates a GL context: call it in a process of its own."""
    os.environ.setdefault("LP_NUM_THREADS", "0")
    from evo.config import load_config
    from evo.fitness import EvalSettings, evaluate_genome, make_analyzer, make_renderer
    from evo.genome import genome_from_preset

    try:
        preset = load_milk(milk)
    except PresetError as exc:
        result = {"error": str(exc), "score": None, "stats": {}}
    else:
        frames = max(8, frames)
        settings = replace(EvalSettings.from_config(load_config(None, {})), width=size, height=size,
                           frames=frames, skip=min(8, frames // 4), preview_size=size,
                           preview_frames=min(48, frames))
        result = evaluate_genome(genome_from_preset(preset).to_json(), settings, make_renderer(settings),
                                 make_analyzer(settings), out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    tmp = out_dir / ".result.json.tmp"
    tmp.write_text(json.dumps(result, default=float, indent=1))
    os.replace(tmp, out_dir / "result.json")
    return result
