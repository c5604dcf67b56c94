"""Corpus mining over projectm-data: parse-only features, the full mine with rendering, the report.

    .venv/bin/python benchmarks/bench_mining.py [--workers 2] [--repeat 3] [--dataset DIR] [--skip-mine] [DIR]

Goals (issue 14), on the 2-core reference machine:
  parse-only features (read, hash, parse, every static column, the Arrow table) >= 1,000 presets/s
  mining with rendering (64x64, 60 frames) of the whole corpus on 2 workers      <= 15 min
  the report (liandan analyze) of that dataset                                    <= 30 s

The parse-only figure is the best of ``--repeat`` runs over files already in memory (the
parser's and the features' speed, not the disk's); the mine starts from an empty folder (no
cache). ``--dataset DIR`` reports on an existing dataset instead of mining one (with
``--skip-mine``). The load average is printed before and after: the machine is shared, and the
mine's wall time moves with it.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from evo.mining.dataset import rows_to_table  # noqa: E402
from evo.mining.mine import mine  # noqa: E402
from evo.mining.report import write_report  # noqa: E402
from evo.mining.static import static_columns, static_row  # noqa: E402
from renderer.milk.files import find_presets  # noqa: E402

CORPUS = Path("/usr/share/projectM/presets")


def load() -> str:
    return " ".join(f"{x:.1f}" for x in os.getloadavg())


def parse_only(root: Path, repeat: int) -> tuple[float, float, int]:
    paths = find_presets(root)
    blobs = [(p, p.read_bytes()) for p in paths]
    columns = static_columns()
    best_wall, best_cpu = float("inf"), float("inf")
    for _ in range(repeat):
        t0, c0 = time.perf_counter(), time.process_time()
        rows = [static_row(p, root, b) for p, b in blobs]
        rows_to_table(rows, columns)
        best_wall = min(best_wall, time.perf_counter() - t0)
        best_cpu = min(best_cpu, time.process_time() - c0)
    return len(blobs) / best_wall, len(blobs) / best_cpu, len(blobs)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("directory", nargs="?", default=str(CORPUS))
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--dataset", help="report on this dataset (mined here when --skip-mine is not given)")
    ap.add_argument("--skip-mine", action="store_true", help="only parse-only features and the report of --dataset")
    args = ap.parse_args()
    root = Path(args.directory)
    if not root.is_dir():
        sys.exit(f"no folder {root}")
    print(f"load average at start: {load()} (2 cores)")

    rate, cpu_rate, n = parse_only(root, args.repeat)
    print(f"parse-only features: {rate:,.0f} presets/s wall, {cpu_rate:,.0f} presets/s of CPU "
          f"({n} files, {len(static_columns())} columns, best of {args.repeat})  goal >= 1,000 -> "
          f"{'met' if rate >= 1000 else 'NOT met'}")

    tmp = None
    dataset = Path(args.dataset) if args.dataset else None
    if not args.skip_mine:
        if dataset is None:
            tmp = tempfile.TemporaryDirectory(prefix="bench_mining_")
            dataset = Path(tmp.name) / "ds"
        t0 = time.perf_counter()
        s = mine([root], dataset, workers=args.workers)
        minutes = (time.perf_counter() - t0) / 60
        print(f"mine with rendering: {s.files} files, {s.distinct} distinct rendered ({s.rendered} now, {s.cached} cached, "
              f"{s.render_errors} failed) in {minutes:.1f} min on {args.workers} workers "
              f"(render pass {s.render_seconds / 60:.1f} min, {s.render_seconds / max(s.rendered, 1) * args.workers:.2f} "
              f"worker-s a preset)  goal <= 15 min -> {'met' if minutes <= 15 else 'NOT met'}")
        print(f"load average after the mine: {load()}")
    if dataset is None:
        sys.exit("--skip-mine needs --dataset")
    with tempfile.TemporaryDirectory(prefix="bench_report_") as out:
        t0 = time.perf_counter()
        result = write_report(dataset, out)
        secs = time.perf_counter() - t0
    size = result.numbers["counts"]
    print(f"report: {secs:.1f} s for {size['rows']} rows ({size['distinct']} distinct)  goal <= 30 s -> "
          f"{'met' if secs <= 30 else 'NOT met'}")
    print(f"load average at the end: {load()}")
    if tmp is not None:
        tmp.cleanup()


if __name__ == "__main__":
    main()
