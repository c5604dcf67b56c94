"""Every benchmark in one command (`make bench`), one after another, each printing its figures.

Benchmarks are separate scripts so any one can be run alone; this only runs them in a fixed
order with the same interpreter and reports which failed. Pass names to run a subset:
    .venv/bin/python benchmarks/run_all.py [parse eel image_stats render shaders evolve diversity music robustness
                                            long_audio fidelity mining families doctor generator predictor]

bench_fidelity needs the butterchurn reference (LIANDAN_REFERENCE=DIR); without it, it says how to
get one and counts as passed.
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ORDER = ["parse", "eel", "image_stats", "render", "shaders", "evolve", "diversity", "music", "robustness", "long_audio",
         "fidelity", "mining", "families", "doctor", "generator", "predictor"]


def main(argv: list[str]) -> int:
    names = argv or ORDER
    failed = []
    for name in names:
        script = HERE / f"bench_{name}.py"
        if not script.exists():
            print(f"no benchmark named {name!r} (have: {', '.join(ORDER)})")
            failed.append(name)
            continue
        print(f"\n=== {script.name} ===", flush=True)
        start = time.perf_counter()
        code = subprocess.call([sys.executable, str(script)], cwd=HERE.parent)
        print(f"--- {script.name}: exit {code}, {time.perf_counter() - start:.0f} s", flush=True)
        if code:
            failed.append(name)
    if failed:
        print(f"\nfailed: {', '.join(failed)}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
