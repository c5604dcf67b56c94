"""The preset doctor over projectm-data: every file diagnosed (static + rendered) with no crash,
how long it takes, what it finds; then repairs of the dead ones.

    .venv/bin/python benchmarks/bench_doctor.py [--workers 2] [--limit N] [--repair-sample 40] [DIR]
    .venv/bin/python benchmarks/bench_doctor.py --from-json corpus.json    # figures of an earlier run

Issue 16's "done when": ``liandan doctor /usr/share/projectM/presets --json`` reports every file
with no crash. This runs exactly that command (64x64, 90 frames at 60 fps, the synthetic track,
2 workers), then prints: files reported, files whose diagnosis failed (a worker crash or timeout,
a check that raised), wall time and files per second, and the files per finding, worst first.
Then ``--repair`` on up to ``--repair-sample`` of the dead presets (spread over the list) and the
share whose repaired copy renders healthy (each copy is diagnosed again, independently).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

CORPUS = Path("/usr/share/projectM/presets")
REPO = Path(__file__).resolve().parent.parent


def load() -> str:
    return " ".join(f"{x:.1f}" for x in os.getloadavg())


def run_doctor(target: Path, workers: int, out_json: Path) -> float:
    t0 = time.perf_counter()
    with open(out_json, "w") as fh:
        done = subprocess.run([sys.executable, "-m", "ui.cli", "doctor", str(target), "--json", "--workers", str(workers)],
                              cwd=REPO, stdout=fh, stderr=subprocess.PIPE, text=True)
    if done.returncode not in (0, 1):
        print(done.stderr[-3000:])
        raise SystemExit(f"liandan doctor exited {done.returncode}")
    return time.perf_counter() - t0


def figures(doc: dict, seconds: float | None) -> list[dict]:
    diags = doc["diagnoses"]
    s = doc["summary"]
    failed = [d for d in diags if any(f["check"] == "render_error" and "could not finish" in f["message"]
                                      or f["message"].startswith("the check_") for f in d["findings"])]
    print(f"files reported: {len(diags)}  rendered: {s['rendered']}  healthy: {s['healthy']}  dead: {s['dead']}")
    print(f"diagnoses that failed (worker crash or timeout, a check that raised): {len(failed)}")
    for d in failed[:10]:
        print(f"  {d['file']}: {[f['message'][:120] for f in d['findings'] if f['severity'] == 'error'][:1]}")
    if seconds:
        print(f"wall time: {seconds / 60:.1f} min ({len(diags) / seconds:.2f} files/s)")
    w = s["by_worst_severity"]
    print(f"worst finding per file: error {w['error']}, warning {w['warning']}, info {w['info']}, clean {w['clean']}")
    print(f"{'severity':<8} {'files':>6}  finding")
    for c in s["checks"]:
        print(f"{c['severity']:<8} {c['files']:>6}  {c['title']} ({c['check']})")
    return diags


def repair_sample(diags: list[dict], n: int, workers: int) -> None:
    from evo.doctor.diagnose import Renderers, default_safe_ranges, diagnose_file
    from evo.doctor.session import doctor

    dead = [d for d in diags if d["dead"]]
    seen, pick = set(), []
    for d in dead[:: max(1, len(dead) // max(n, 1))]:
        if d["hash"] not in seen:  # one per distinct content
            seen.add(d["hash"])
            pick.append(d)
    pick = pick[:n]
    if not pick:
        print("no dead presets to repair")
        return
    with tempfile.TemporaryDirectory(prefix="bench-doctor-") as tmp:
        src, out = Path(tmp) / "in", Path(tmp) / "out"
        src.mkdir()
        for i, d in enumerate(pick):
            shutil.copy(d["file"], src / f"{i:03d} {Path(d['file']).name}")
        t0 = time.perf_counter()
        run = doctor([src], out=out, repair=True, workers=workers)
        seconds = time.perf_counter() - t0
        verdicts: dict[str, int] = {}
        for e in run.manifest:
            verdicts[e["verdict"]] = verdicts.get(e["verdict"], 0) + 1
        healthy = 0
        rounds: dict[str, int] = {}
        renderers = Renderers.make()
        try:
            for e in run.repaired:
                diag, _, _ = diagnose_file(e["output"], ranges=default_safe_ranges(), renderers=renderers, silence=False)
                healthy += diag.healthy
                last = next(t["round"].split(" with ")[0] for t in reversed(e["tried"]) if t["helps"])
                rounds[last] = rounds.get(last, 0) + 1
        finally:
            renderers.release()
        print(f"repair of {len(pick)} dead presets: {verdicts}; {healthy} of {len(pick)} repaired copies render healthy "
              f"when diagnosed again ({healthy / len(pick):.0%}); by round: {rounds}; {seconds:.0f} s "
              f"({seconds / len(pick):.1f} s a preset)")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("directory", nargs="?", default=str(CORPUS))
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--limit", type=int, default=0, help="only the first N files (0: all)")
    ap.add_argument("--repair-sample", type=int, default=40)
    ap.add_argument("--from-json", help="figures of an earlier `liandan doctor --json` output (no new run)")
    ap.add_argument("--keep-json", help="also save the `liandan doctor --json` output here")
    args = ap.parse_args()
    print(f"load average before: {load()}")
    if args.from_json:
        doc = json.loads(Path(args.from_json).read_text())
        repair_sample(figures(doc, None), args.repair_sample, args.workers)
    else:
        target = Path(args.directory)
        if not target.exists():
            print(f"{target}: not found (install projectm-data); skipped")
            return
        with tempfile.TemporaryDirectory(prefix="bench-doctor-") as tmp:  # the --limit copies live until the repairs
            if args.limit:
                from renderer.milk.files import find_presets

                sub = Path(tmp) / "sample"
                sub.mkdir()
                for p in find_presets(target)[: args.limit]:
                    shutil.copy(p, sub / p.name)
                target = sub
            out_json = Path(tmp) / "doctor.json"
            seconds = run_doctor(target, args.workers, out_json)
            if args.keep_json:
                shutil.copy(out_json, args.keep_json)
            doc = json.loads(out_json.read_text())
            repair_sample(figures(doc, seconds), args.repair_sample, args.workers)
    print(f"load average after: {load()}")


if __name__ == "__main__":
    main()
