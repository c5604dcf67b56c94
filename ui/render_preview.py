"""``python -m ui.render_preview IN.milk OUT_DIR``: render one preset the way the engine does.

Run as a subprocess by the Breed and Preset pages, so the Streamlit process never creates a GL
context (a hung or crashed render takes down this process, not the app). It uses the engine's
own evaluation (``evo.preset_view.evaluate_milk_file``), so the preview, still and score of a bred child are exactly what
a run would have produced for it. Writes ``preview.webp``, ``still.png`` and ``result.json``.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m ui.render_preview")
    ap.add_argument("milk", type=Path)
    ap.add_argument("out_dir", type=Path)
    ap.add_argument("--frames", type=int, default=60)
    ap.add_argument("--size", type=int, default=128)
    args = ap.parse_args(argv)
    from evo.preset_view import evaluate_milk_file

    evaluate_milk_file(args.milk, args.out_dir, frames=args.frames, size=args.size)
    return 0


if __name__ == "__main__":
    sys.exit(main())
