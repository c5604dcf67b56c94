"""Fixtures for the UI tests: real run folders made through the real store API, tiny real images,
and the real engine driven through its CLI.

``make_run`` writes what the engine would (checkpoints, preset.milk, an animated preview.webp and a
still.png per individual) without rendering, so page-logic tests stay fast; ``start_evolve`` runs
the real ``liandan evolve`` for the browser test.
"""

from __future__ import annotations

import io
import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
SEEDS = REPO / "evo" / "seeds"


def seed_files() -> list[Path]:
    return sorted(SEEDS.glob("*.milk"))


def tiny_webp(colour: tuple[int, int, int], size: int = 32, frames: int = 3) -> bytes:
    """A real animated WebP (frames get brighter), the format the engine writes."""
    from PIL import Image

    images = [Image.new("RGB", (size, size), tuple(min(255, c + 40 * k) for c in colour)) for k in range(frames)]
    buf = io.BytesIO()
    images[0].save(buf, "WEBP", save_all=True, append_images=images[1:], duration=100, loop=0)
    return buf.getvalue()


def tiny_png(colour: tuple[int, int, int], size: int = 32) -> bytes:
    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (size, size), colour).save(buf, "PNG")
    return buf.getvalue()


def _colour(k: int) -> tuple[int, int, int]:
    return ((60 * k + 40) % 200, (110 * k + 80) % 200, (170 * k + 20) % 200)


def _record(g: int, i: int, preset_path: Path, parents: list[str], operator: str, score: float):
    from evo.checkpoint import IndividualRecord
    from evo.genome import genome_from_preset, genome_id
    from renderer.milk.preset import load_milk

    genome = genome_from_preset(load_milk(preset_path))
    return IndividualRecord(f"g{g:04d}-{i:03d}", g, genome.to_json(), genome_id(genome), parents, operator, score,
                            {"entropy": 3.0 + i, "edge_density": 0.1 * i})


def _write_files(run, ind_id: str, src: Path, colour: int) -> None:
    """What the engine writes for an individual: its preset, an animated preview and a still."""
    from renderer.milk.preset import dump_milk, load_milk
    from renderer.output.files import atomic_write_bytes

    d = run.individual_dir(ind_id)
    d.mkdir(parents=True, exist_ok=True)
    atomic_write_bytes(d / "preset.milk", dump_milk(load_milk(src)).encode("latin-1", "replace"))
    atomic_write_bytes(d / "preview.webp", tiny_webp(_colour(colour)))
    atomic_write_bytes(d / "still.png", tiny_png(_colour(colour)))


def make_run(root: Path, run_id: str = "ui-test", population: int = 4, generations: int = 1,
             mode: str = "autonomous", overrides: dict | None = None) -> "object":
    """A run folder with ``generations`` checkpoints of ``population`` real seed presets.

    Every generation but the last has ``next`` (parents and reasons), like a run whose selection
    already happened; the last one is still open for votes.
    """
    from evo.checkpoint import Checkpoint
    from evo.config import load_config
    from evo.store import RunStore
    from renderer.milk.preset import dump_milk, load_milk
    from renderer.output.files import atomic_write_bytes

    files = seed_files()
    cfg = load_config(None, {"run.population": population, "run.generations": max(generations, 2), "run.mode": mode,
                             **(overrides or {})})
    store = RunStore(root)
    run = store.create(run_id, cfg.to_dict())
    prev: list[str] = []
    for g in range(generations):
        records = []
        for i in range(population):
            src = files[(g + i) % len(files)]
            parents = [f"seed:{src.name}"] if g == 0 else [prev[i % len(prev)], prev[(i + 1) % len(prev)]]
            rec = _record(g, i, src, parents, "seed" if g == 0 else "crossbreed", round(0.3 + 0.1 * i, 3))
            _write_files(run, rec.id, src, i)
            records.append(rec)
        run.write_checkpoint(Checkpoint(g, records, rng={}, logbook=[{"gen": g, "best": 0.6, "mean": 0.45}]))
        if g + 1 < generations:
            select_parents(run, g)
        prev = [r.id for r in records]
    run.write_state("waiting_votes" if mode == "interactive" else "stopped", generations - 1, pid=None)
    return store.open(run_id)


def make_qd_run(root: Path, run_id: str = "qd-test", population: int = 6, batches: int = 2, cells: int = 16,
                overrides: dict | None = None) -> "object":
    """A quality-diversity run folder as the engine leaves it, without rendering: ``batches``
    checkpoints of ``population`` real seed presets with spread-out descriptors, each with the
    archive the real evo.qd archive (pyribs) builds from every record so far, and the run's
    CVT centroids."""
    from evo.checkpoint import Checkpoint
    from evo.config import load_config
    from evo.qd.archive import Centroids, QDArchive
    from evo.store import RunStore
    from renderer.milk.preset import dump_milk, load_milk
    from renderer.output.files import atomic_write_bytes

    files = seed_files()
    cfg = load_config(None, {"run.population": population, "run.generations": max(batches, 2), "run.search": "qd",
                             "qd.cells": cells, "qd.centroid_samples": 50 * cells, **(overrides or {})})
    store = RunStore(root)
    run = store.create(run_id, cfg.to_dict())
    centroids = Centroids.make(cfg.qd.measures, cells, cfg.qd.centroid_samples, 0)
    run.write_centroids(centroids.to_json())
    history, logbook = [], []
    for b in range(batches):
        records = []
        for i in range(population):
            k = b * population + i
            src = files[k % len(files)]
            rec = _record(b, i, src, [f"seed:{src.name}"], "seed" if b == 0 else "crossbreed+mutate",
                          round(0.3 + 0.04 * k, 3))
            rec.descriptors = {"brightness": (0.37 * k + 0.05) % 1, "colourfulness": (0.61 * k + 0.1) % 1,
                               "warmth": 0.5, "motion": (0.23 * k + 0.3) % 1, "symmetry": (0.71 * k + 0.2) % 1,
                               "detail": 0.2, "complexity": 0.4, "reactivity": 0.6}
            _write_files(run, rec.id, src, k)
            records.append(rec)
        history += records
        archive = QDArchive(centroids)
        archive.fill(history, lambda m: float(m.score))
        record = archive.record()
        logbook.append({"gen": b, "best": max(r.score for r in records), "mean": 0.5, "coverage": record.coverage,
                        "qd_score": record.qd_score, "archive_best": record.best, "filled": len(record.elites)})
        run.write_checkpoint(Checkpoint(b, records, rng={}, logbook=list(logbook), archive=record))
    run.write_state("stopped", batches - 1, pid=None)
    return store.open(run_id)


def select_parents(run, g: int, elite: int = 1, tournaments: int = 2, seed: int = 0) -> dict:
    """(Re)write generation ``g``'s ``next`` as the engine's selection does: the real evo.selection pool
    on the run's votes by genome, earlier generations as the re-entry archive (one member per
    genome, the latest), ``elite`` elites and ``tournaments`` tournament wins."""
    import random

    from evo.checkpoint import SelectionRecord
    from evo.selection import ParentPool, VoteRule, summary_to_json

    def members(x: int) -> list:
        return list(run.read_checkpoint(x).individuals)

    archive: dict = {}
    for x in run.generations():
        if x < g:
            archive.update({m.genome_id: m for m in members(x)})
    rule = VoteRule.from_config(run.config.get("votes", {}))
    by_genome, cutoff = run.genome_votes()
    pool = ParentPool.build(members(g), list(archive.values()), by_genome, rule)
    pool.elites(elite)
    py = random.Random(seed)
    for _ in range(tournaments):
        pool.tournament(py, int(run.config.get("ga", {}).get("tournament_size", 3)))
    ck = run.read_checkpoint(g)
    ck.next = SelectionRecord(pool.reasons(), pool.excluded, pool.votes_used(), cutoff, summary_to_json(by_genome), [], {})
    run.write_checkpoint(ck)
    return ck.next.to_json()


# ---------------------------------------------------------------- processes


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def liandan(*args: str) -> list[str]:
    return [sys.executable, "-m", "ui.cli", *args]


def start_process(cmd: list[str], log: Path, env: dict | None = None) -> subprocess.Popen:
    log.parent.mkdir(parents=True, exist_ok=True)
    with open(log, "wb") as fh:
        return subprocess.Popen(cmd, cwd=REPO, stdout=fh, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                env=dict(os.environ, LP_NUM_THREADS="0", **(env or {})), start_new_session=True)


def stop_process(proc: subprocess.Popen, timeout: float = 10.0) -> None:
    """SIGTERM this process (and only its own process group, which it leads), then SIGKILL."""
    if proc.poll() is not None:
        return
    import signal

    try:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout)
    except ProcessLookupError:
        pass


def wait_for(predicate, timeout: float, what: str, interval: float = 0.2, log: Path | None = None):
    t0 = time.monotonic()
    while time.monotonic() - t0 < timeout:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    tail = log.read_text(errors="replace")[-3000:] if log and log.exists() else ""
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}\n{tail}")


def wait_http(url: str, timeout: float, log: Path | None = None) -> None:
    import urllib.request

    def ok() -> bool:
        try:
            with urllib.request.urlopen(url, timeout=2) as r:
                return r.status == 200
        except OSError:
            return False

    wait_for(ok, timeout, url, interval=0.3, log=log)


def state_status(run_dir: Path) -> str | None:
    try:
        return json.loads((run_dir / "state.json").read_text()).get("status")
    except (OSError, json.JSONDecodeError):
        return None
