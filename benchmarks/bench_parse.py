"""How fast the .milk reader and writer go over the whole projectm-data corpus.

    .venv/bin/python benchmarks/bench_parse.py [--repeat N] [DIR]

Files are read into memory first so the figure is the parser's, not the disk's. Prints the best of
N runs (the machine is shared; the best run is the least disturbed one). Goal: >= 1,000 presets/s.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from renderer.milk.preset import dump_milk, parse_milk  # noqa: E402

CORPUS = Path("/usr/share/projectM/presets")


def best_rate(fn, items, repeat: int) -> tuple[float, float]:
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        for item in items:
            fn(item)
        best = min(best, time.perf_counter() - t0)
    return len(items) / best, best


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("directory", nargs="?", default=str(CORPUS))
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    paths = sorted(p for p in Path(args.directory).rglob("*") if p.is_file() and p.suffix.lower() == ".milk")
    if not paths:
        sys.exit(f"no .milk files under {args.directory}")
    blobs = [(p.read_bytes(), str(p)) for p in paths]
    megabytes = sum(len(b) for b, _ in blobs) / 1e6
    rate, secs = best_rate(lambda item: parse_milk(item[0], item[1]), blobs, args.repeat)
    presets = [parse_milk(b, s) for b, s in blobs]
    dump_rate, _ = best_rate(dump_milk, presets, args.repeat)
    print(f"corpus: {len(blobs)} presets, {megabytes:.1f} MB, best of {args.repeat}")
    print(f"parse:  {rate:,.0f} presets/s  ({secs:.2f} s, {megabytes / secs:.1f} MB/s)")
    print(f"dump:   {dump_rate:,.0f} presets/s")
    print(f"goal:   1,000 presets/s parse -> {'met' if rate >= 1000 else 'NOT met'}")


if __name__ == "__main__":
    main()
