"""``python -m ui.render_preview IN.milk OUT_DIR``: render one preset the way the engine does.

Run as a subprocess by the Breed and Preset pages, so the Streamlit process never creates a GL
context (a hung or crashed render takes down this process, not the app). It uses the engine's
own evaluation (``evo.fitness``), so the preview, still and score of a bred child are exactly what
a run would have produced for it. Writes ``preview.webp``, ``still.png`` and ``result.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from dataclasses import replace
from pathlib import Path


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m ui.render_preview")
    ap.add_argument("milk", type=Path)
    ap.add_argument("out_dir", type=Path)
    ap.add_argument("--frames", type=int, default=60)
    ap.add_argument("--size", type=int, default=128)
    args = ap.parse_args(argv)
    os.environ.setdefault("LP_NUM_THREADS", "0")

    from evo.config import load_config
    from evo.fitness import EvalSettings, evaluate_genome, make_analyzer, make_renderer
    from evo.genome import genome_from_preset
    from renderer.preset import PresetError, load_milk

    try:
        preset = load_milk(args.milk)
    except PresetError as exc:
        result = {"error": str(exc), "score": None, "stats": {}}
    else:
        frames = max(8, args.frames)
        settings = replace(EvalSettings.from_config(load_config(None, {})), width=args.size, height=args.size,
                           frames=frames, skip=min(8, frames // 4), preview_size=args.size,
                           preview_frames=min(48, frames))
        result = evaluate_genome(genome_from_preset(preset).to_json(), settings, make_renderer(settings),
                                 make_analyzer(settings), args.out_dir)
    args.out_dir.mkdir(parents=True, exist_ok=True)
    tmp = args.out_dir / ".result.json.tmp"
    tmp.write_text(json.dumps(result, default=float, indent=1))
    os.replace(tmp, args.out_dir / "result.json")
    return 0


if __name__ == "__main__":
    sys.exit(main())
