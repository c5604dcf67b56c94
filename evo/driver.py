"""The run driver: the loop around a generation core that owns everything with side effects.

Two cores fit the loop: the generational GA (:mod:`evo.ga`, ``run.search = "ga"``) and
MAP-Elites (:mod:`evo.qd.core`, ``"qd"``), whose generations are batches of children bred from
its archive. Both answer ``first_generation``, ``remember``, ``tell``, ``rng_state``,
``archive_record`` (None for the GA), ``log_fields(members)`` and ``saw_votes``.

One generation: evaluate the pending individuals -> checkpoint -> (interactive: wait for votes)
-> ``core.tell`` (selection and variation, :mod:`evo.ga`) with a snapshot of the votes (tallies
by genome and the last vote id) -> checkpoint again with the offspring as ``next``. Selection is
then a pure function of checkpoint, vote snapshot, taste model and RNG state
(:func:`replay_selection` recomputes it with the model the selection recorded, never a refit:
evo.predictor.taste). Evaluation is a pure function of genome and settings and never touches the run's
random generators, so a run is the same whether 1 or 8 workers evaluated it, and a run killed at
any point resumes exactly: the generators are restored from the last checkpoint (as JSON) and
everything after it is replayed.

Randomness: one ``random.Random`` (operators, tournaments) and one ``numpy.random.Generator``
(seed sampling), both seeded from ``run.seed``; no global random state is ever used.
"""

from __future__ import annotations

import copy
import dataclasses
import io
import random
import time
from pathlib import Path
from typing import Any, Callable

import numpy as np
from deap import tools

from evo.checkpoint import Checkpoint, CheckpointError, Result
from evo.config import RunConfig, default_seeds_dir
from evo.evaluate import Task, make_evaluator
from evo.fitness.candidate import audio_notes
from evo.fitness.score import WORST_SCORE
from evo.ga import GenerationalGA, restore_rng
from evo.genome import genome_text
from evo.individual import Individual
from evo.niching import DistinctHallOfFame, LookRule
from evo.predictor.taste import TasteCache, taste_for_selection
from evo.predictor.use import TasteUse
from evo.selection import summary_from_json
from evo.store import Run, RunStore, StoreError
from evo.toolbox import make_toolbox
from renderer.output.files import atomic_copy, atomic_write_bytes

__all__ = ["Driver", "branch_run", "create_run", "replay_selection", "resume_run", "start_run", "write_contact_sheet"]
VOTE_POLL_S = 1.0  # how often an interactive run looks for new votes (tests make it shorter)

Progress = Callable[[dict], None]


class Driver:
    def __init__(self, run: Run, config: RunConfig, progress: Progress | None = None, address: str | None = None):
        self.run = run
        self.cfg = config
        self.progress = progress or (lambda event: None)
        self.settings = config.eval_settings
        self.address = address
        self.hof = DistinctHallOfFame(config.ga.hall_of_fame, look_rule(config).same)
        self.logbook = tools.Logbook()
        self.cache: dict[str, tuple[str, Result]] = {}  # genome_id -> (first individual id, result)
        self.core = None  # GenerationalGA or evo.qd.core.MapElites
        self.evaluator = None
        self.notes: list[str] = []  # what the user should know about this run's input (audio repairs)
        self.taste_cache = TasteCache()  # the last trained taste model (evo.predictor.taste)

    def _write_state(self, status: str, generation: int, **extra: Any) -> None:
        if self.notes:
            extra["notes"] = self.notes
        self.run.write_state(status, generation, **extra)

    def _check_audio(self) -> None:
        """Music that cannot be read stops the run before it starts (every candidate would fail);
        what the loader repaired is said once and kept in state.json for the UI."""
        try:
            self.notes = audio_notes(self.settings)
        except ValueError as exc:  # AudioError names the file
            raise StoreError(f"{exc} (fitness.audio)") from None
        for note in self.notes:
            self.progress({"type": "note", "message": note})

    def _make_core(self, py: random.Random, npg: np.random.Generator):
        toolbox = make_toolbox(self.cfg.ga, py, self._evaluate)
        if self.cfg.run.search == "qd":
            from evo.qd.core import MapElites

            self.core = MapElites(self.cfg, toolbox, py, npg, self._centroids())
        else:
            self.core = GenerationalGA(self.cfg, toolbox, py, npg)
        return self.core

    def _centroids(self):
        """The run's CVT centroids: read back from the run folder, or made (seeded) and saved."""
        from evo.qd.archive import Centroids

        saved = self.run.read_centroids()
        if saved is not None:
            return Centroids.from_json(saved)
        q = self.cfg.qd
        centroids = Centroids.make(q.measures, q.cells, q.centroid_samples, self.cfg.run.seed)
        self.run.write_centroids(centroids.to_json())
        return centroids

    # ---- entry points

    def run_from_start(self) -> None:
        self._check_audio()
        core = self._make_core(random.Random(self.cfg.run.seed), np.random.default_rng(self.cfg.run.seed))
        pending = core.first_generation(self.run.config.get("branch"))
        self._loop(0, pending)

    def resume(self) -> None:
        for stale in self.run.dir.rglob(".*.tmp*"):  # half-written files of a killed run
            stale.unlink(missing_ok=True)
        gens = self.run.generations()
        if not gens:
            return self.run_from_start()
        self._check_audio()
        last = gens[-1]
        try:
            checkpoints = [self.run.read_checkpoint(g) for g in gens]
            ck = checkpoints[-1]
            if ck.next is not None:
                py, npg = restore_rng(ck.next.rng)
            else:
                py, npg = restore_rng(ck.rng)
            core = self._make_core(py, npg)
            for c in checkpoints:
                self._absorb(c)
            members = [Individual.from_record(rec) for rec in ck.individuals]
            pending = [Individual.from_record(rec) for rec in ck.next.offspring] if ck.next is not None else None
        except StoreError:
            raise
        except (KeyError, TypeError, ValueError) as exc:  # GenomeError too: a damaged or hand-edited checkpoint
            raise StoreError(f"{self.run.checkpoint_path(last)}: cannot resume: {type(exc).__name__}: {exc}") from exc
        if last + 1 >= self.cfg.run.generations:
            self._finish(last)
            return
        if pending is None:
            if self.cfg.run.mode == "interactive":
                self._wait_for_votes(last)
            pending = self._select(last, members, ck)
        self._loop(last + 1, pending)

    # ---- the loop

    def _loop(self, g: int, pending: list[Individual]) -> None:
        self.evaluator = make_evaluator(self.settings, self.cfg.evaluation.workers, self.address)
        try:
            self.evaluator.start()
            while True:
                if g >= self.cfg.run.generations:
                    self._finish(g - 1)
                    return
                self._write_state("running", g, n_generations=self.cfg.run.generations)
                t0 = time.monotonic()
                members = self.core.toolbox.evaluate(g, pending)
                seconds = time.monotonic() - t0
                self.core.remember(members)
                self.hof.update([m for m in members if m.score > WORST_SCORE])  # no black screens on the sheet
                record = {**_logbook_record(g, members), **self.core.log_fields(members)}
                self.logbook.record(**record)
                ck = Checkpoint(
                    generation=g, individuals=[m.to_record() for m in members], rng=self.core.rng_state(),
                    hall_of_fame=[{"id": h.id, "score": h.score, "genome_id": h.genome_id} for h in self.hof],
                    logbook=[dict(r) for r in self.logbook], settings=self.settings.to_dict(),
                    timing={"seconds": round(seconds, 3),
                            "evals_per_s": round(len(members) / seconds, 3) if seconds else None},
                    archive=self.core.archive_record())
                self.run.write_checkpoint(ck)
                self.progress({"type": "generation_end", "generation": g, "record": record, "seconds": seconds,
                               "evaluated": sum(1 for m in members if not m.result.cached_from)})
                if g + 1 >= self.cfg.run.generations:
                    self._finish(g)
                    return
                if self.cfg.run.mode == "interactive":
                    self._wait_for_votes(g)
                pending = self._select(g, members, ck)
                g += 1
        except KeyboardInterrupt:  # Ctrl-C or SIGTERM from the UI's stop button
            self._write_state("stopped", g, n_generations=self.cfg.run.generations)
            raise
        finally:
            self.evaluator.close()
            self.evaluator = None

    def _evaluate(self, g: int, pending: list[Individual]) -> list[Individual]:
        """Write each candidate's preset, render each distinct new genome once (on the evaluator),
        and give copies and genomes seen before their earlier result."""
        self.progress({"type": "generation_start", "generation": g, "total": len(pending)})
        tasks, waiting = [], {}
        for m in pending:
            d = self.run.individual_dir(m.id)
            d.mkdir(parents=True, exist_ok=True)
            try:
                text = genome_text(m.genome)
                atomic_write_bytes(d / "preset.milk", text.encode("latin-1", errors="replace"))
            except Exception as exc:  # noqa: BLE001 - an undecodable genome is this candidate's error
                m.set_result(_error(f"cannot write preset: {type(exc).__name__}: {exc}"))
                self.cache.setdefault(m.genome_id, (m.id, m.result))
                continue
            if m.genome_id in self.cache:
                src, result = self.cache[m.genome_id]
                m.set_result(_copied(result, src))
                _copy_previews(self.run.individual_dir(src), d)
            elif m.genome_id in waiting:  # the same genome twice in one generation: render it once
                waiting[m.genome_id].append(m)
            else:
                waiting[m.genome_id] = [m]
                tasks.append(Task(m.id, text, str(d)))
        done = len(pending) - len(tasks)
        by_id = {ms[0].id: ms for ms in waiting.values()}
        for key, raw in self.evaluator.run(tasks):
            first, *dupes = by_id[key]
            result = Result.from_json(raw)
            first.set_result(result)
            self.cache.setdefault(first.genome_id, (first.id, _cacheable(result)))
            for m in dupes:
                m.set_result(_copied(result, first.id))
                _copy_previews(self.run.individual_dir(first.id), self.run.individual_dir(m.id))
            done += 1 + len(dupes)
            self.progress({"type": "evaluated", "generation": g, "done": done, "total": len(pending),
                           "id": key, "score": result.score, "error": result.error})
        for m in pending:
            if m.result is None:
                m.set_result(_error("evaluation returned no result"))
        return pending

    def _select(self, g: int, members: list[Individual], ck: Checkpoint,
                votes: tuple[dict, int] | None = None, write: bool = True, taste: TasteUse | None = None
                ) -> list[Individual]:
        """The core's selection with the votes now in the store and the taste model trained on
        them (or a recorded snapshot and model), saved as the checkpoint's ``next``."""
        if votes is None:
            snapshot = self.run.genome_votes()
            taste = taste_for_selection(self.run.store.root, self.run.dir, self.cfg, self.taste_cache)
        else:
            snapshot = votes
        selection, offspring, combined = self.core.tell(g, members, snapshot, taste)
        ck.next = selection
        ck.archive = self.core.archive_record()
        for rec in ck.individuals:
            rec.combined = combined[rec.id]
        if write:
            self.run.write_checkpoint(ck)
        return offspring

    def replay_selection(self, g: int) -> dict:
        """Generation ``g``'s selection recomputed from its checkpoint and the votes it recorded
        (the ``next`` it should have saved): the check that a run is reproducible from its vote log."""
        checkpoints = [self.run.read_checkpoint(x) for x in self.run.generations() if x <= g]
        ck = copy.deepcopy(self.run.read_checkpoint(g))
        if ck.next is None:
            raise StoreError(f"{self.run.checkpoint_path(g)}: no recorded selection to replay")
        try:
            votes = (summary_from_json(ck.next.votes_by_genome), ck.next.vote_cutoff)
            taste = None if ck.next.predictor is None else TasteUse.from_json(ck.next.predictor, self.run.dir)
            self._make_core(*restore_rng(ck.rng))
            for c in checkpoints:
                self._absorb(c)
            members = [Individual.from_record(rec) for rec in ck.individuals]
        except (KeyError, TypeError, ValueError) as exc:  # TasteModelError too: a recorded model missing or edited
            raise StoreError(f"{self.run.checkpoint_path(g)}: cannot replay: {type(exc).__name__}: {exc}") from exc
        self._select(g, members, ck, votes=votes, write=False, taste=taste)
        return ck.next.to_json()

    def _wait_for_votes(self, g: int) -> None:
        """Interactive mode: hold selection until ``votes_needed`` distinct (voter, individual)
        votes arrive or the timeout passes: votes on generation ``g`` (GA), or votes on any elite
        since the last selection (quality diversity, whose Vote page shows the newest elites)."""
        need, limit = self.cfg.run.votes_needed, self.cfg.run.vote_timeout_s
        t0 = time.monotonic()
        self._write_state("waiting_votes", g, votes_needed=need, n_generations=self.cfg.run.generations)
        if self.cfg.run.search == "qd":
            since = self.core.votes[1]
            count = lambda: self.run.vote_count_since(since)  # noqa: E731
        else:
            count = lambda: self.run.vote_count(g)  # noqa: E731
        while (have := count()) < need and time.monotonic() - t0 < limit:
            self.progress({"type": "waiting_votes", "generation": g, "votes": have, "needed": need})
            time.sleep(VOTE_POLL_S)

    # ---- resume support

    def _absorb(self, ck: Checkpoint) -> None:
        """Rebuild the cache, archive, hall of fame and logbook exactly as the uninterrupted run had them."""
        members = {rec.id: Individual.from_record(rec) for rec in ck.individuals}
        for rec in ck.individuals:
            if not rec.cached_from:
                self.cache.setdefault(rec.genome_id, (rec.id, _cacheable(members[rec.id].result)))
        self.core.remember(list(members.values()))
        if ck.next is not None:
            self.core.saw_votes(summary_from_json(ck.next.votes_by_genome), ck.next.vote_cutoff)
        self.hof.restore([members.get(h["id"]) or Individual.from_record(self._find_record(h["id"]))
                          for h in ck.hall_of_fame])
        self.logbook = tools.Logbook()
        for r in ck.logbook:
            self.logbook.record(**r)

    def _find_record(self, ind: str):
        g = self.run.generation_of(ind)
        rec = self.run.read_checkpoint(g).record(ind)
        if rec is None:
            raise StoreError(f"{self.run.checkpoint_path(g)}: hall of fame names missing individual {ind}")
        return rec

    def _finish(self, g: int) -> None:
        """The contact sheet shows the run's best, all different (``Run.best``: what export writes)."""
        sheet = write_contact_sheet(self.run, self.run.best(self.cfg.ga.hall_of_fame))
        self._write_state("finished", g, n_generations=self.cfg.run.generations, contact_sheet=str(sheet))
        self.progress({"type": "finished", "generation": g, "contact_sheet": str(sheet)})


def _logbook_record(g: int, members: list[Individual]) -> dict:
    scores = np.array([m.score for m in members], dtype=np.float64)
    return {
        "gen": g,
        "nevals": sum(1 for m in members if not m.result.cached_from),
        "best": float(scores.max()),
        "mean": float(scores.mean()),
        "std": float(scores.std()),
        "min": float(scores.min()),
        "errors": sum(1 for m in members if m.result.error),
        "degenerate": sum(1 for m in members if m.result.degenerate),
    }


def look_rule(cfg: RunConfig) -> LookRule:
    """When two individuals are the same look (hall of fame, export): ``[ga] hall_of_fame_*``."""
    return LookRule(cfg.ga.hall_of_fame_distance, cfg.ga.hall_of_fame_ssim)


def _error(message: str) -> Result:
    return Result(score=WORST_SCORE, error=message)


def _cacheable(result: Result) -> Result:
    return dataclasses.replace(result, cached_from=None, seconds=0.0, cpu_seconds=0.0)


def _copied(result: Result, source: str) -> Result:
    return dataclasses.replace(result, cached_from=source, seconds=0.0, cpu_seconds=0.0)


def _copy_previews(src: Path, dst: Path) -> None:
    for name in ("preview.webp", "still.png"):
        if (src / name).is_file():
            atomic_copy(src / name, dst / name)


# ---------------------------------------------------------------- hall-of-fame sheet


def write_contact_sheet(run: Run, ids: list[str], columns: int = 4, tile: int = 128) -> Path:
    """A labelled grid of the stills of ``ids`` (the run's best, all different: what a person
    looks at first after a run)."""
    from PIL import Image

    from renderer.output.contact_sheet import Tile, contact_sheet

    tiles = []
    for k, ind in enumerate(ids):
        score = run.individual(ind).score
        label = f"#{k + 1} {ind}" + (f"  {score:.3f}" if isinstance(score, (int, float)) else "")
        image = None
        still = run.still_path(ind)
        if still.is_file():
            with Image.open(still) as im:
                image = np.asarray(im.convert("RGB").resize((tile, tile), Image.BILINEAR))
        tiles.append(Tile(label, image, "no preview"))
    sheet = contact_sheet(tiles or [Tile("(empty hall of fame)", None, "no individuals")], columns=columns,
                          tile_size=(tile, tile))
    buf = io.BytesIO()
    sheet.save(buf, "PNG")
    atomic_write_bytes(run.contact_sheet_path, buf.getvalue())
    return run.contact_sheet_path


# ---------------------------------------------------------------- public API


def create_run(config: RunConfig, store: RunStore, run_id: str | None = None, branch: dict | None = None) -> Run:
    """A new run folder holding ``config``, not started (``start_run`` runs it here,
    :meth:`Run.launch` in the background)."""
    seeds = default_seeds_dir(config)
    if branch is None and config.seeds.random_fraction < 1.0 and not seeds.is_dir():
        raise FileNotFoundError(f"{seeds}: seed folder does not exist")
    data = config.to_dict() if branch is None else {**config.to_dict(), "branch": branch}
    run = store.create(store.new_run_id(run_id), data)
    if config.fitness.audio and (config.fitness.audio_start < 0 or not config.fitness.beat_times):
        from evo.music.song_fitness import fit_to_song, write_song_record

        try:
            config, song = fit_to_song(config)
        except ValueError as exc:  # SongError / AudioError name the file
            raise StoreError(str(exc)) from exc
        run.replace_config({**data, **config.to_dict()})
        write_song_record(run.dir, song)
    run.write_state("stopped", -1)
    return run


def start_run(config: RunConfig, store: RunStore, run_id: str | None = None, progress: Progress | None = None,
              address: str | None = None) -> str:
    run = create_run(config, store, run_id)
    with run.lock():
        Driver(run, run.run_config(), progress, address).run_from_start()  # as saved: a song fills in its beats
    return run.id


def resume_run(run_id: str, store: RunStore, progress: Progress | None = None, address: str | None = None) -> str:
    """Continue a run from its last checkpoint (or start it, if it has none). A run whose process
    died is taken over; one that a live process holds is refused."""
    run = store.open(run_id)
    with run.lock():
        note = _take_over(run)
        if note and progress is not None:
            progress({"type": "note", "message": note})
        Driver(run, run.run_config(), progress, address).resume()
    return run.id


def _take_over(run: Run) -> str | None:
    """What resume found (the caller holds the lock): a damaged state.json is rewritten from the
    checkpoints; a state left 'running' means its process died without saying so. Returns the
    sentence to show, or None when the run was simply stopped."""
    state = run.state
    gens = run.generations()
    where = f"generation {gens[-1] + 1} of {run.run_config().run.generations}" if gens else "the start"
    if "problem" in state:
        run.write_state("stopped", gens[-1] if gens else -1)
        return f"{state['problem']}: rebuilt it from the checkpoints (resuming after {where})"
    if state["status"] in ("running", "waiting_votes"):
        pid = state.get("pid")
        who = f"pid {pid}" if isinstance(pid, int) else "its process"
        return (f"{run.dir}: the run was left '{state['status']}' by {who}, which is gone (killed or crashed): "
                f"taking it over after {where}")
    return None


def replay_selection(run: Run, g: int) -> dict:
    """What generation ``g``'s selection gives from its checkpoint and recorded votes (equal to the
    saved ``next`` for an untampered run, whatever votes arrived since)."""
    return Driver(run, run.run_config()).replay_selection(g)


def branch_run(run_id: str, ind: str, store: RunStore, run_name: str | None = None, **overrides: Any) -> str:
    """A new run (not started: ``liandan resume NEW`` or :meth:`Run.launch` starts it) seeded with
    one individual. Its first population is that individual plus mutants of it; ``overrides`` are
    dotted config keys (``{"run.generations": 5}``) or plain RunSection names (``population=8``).
    """
    src = store.open(run_id)
    individual = src.individual(ind)
    dotted = {(k if "." in k else f"run.{k}"): v for k, v in overrides.items()}
    cfg = src.run_config().with_overrides(dotted)
    branch = {"run": run_id, "individual": ind, "genome": individual.genome}
    return create_run(cfg, store, run_name, branch).id


def _print_progress(event: dict) -> None:
    """One line per generation: what a run started in the background writes to its log."""
    if event["type"] == "generation_end":
        r = event["record"]
        print(f"gen {r['gen']}: best {r['best']:.4f} mean {r['mean']:.4f} errors {r['errors']} "
              f"degenerate {r['degenerate']} ({event['seconds']:.1f} s)", flush=True)
    elif event["type"] == "finished":
        print(f"finished: {event['contact_sheet']}", flush=True)
    elif event["type"] == "note":
        print(f"note: {event['message']}", flush=True)


def main(argv: list[str] | None = None) -> int:
    """``python -m evo.driver RUN --runs-dir DIR``: run or continue a run in this process (how
    :meth:`Run.launch` starts one in the background)."""
    import argparse
    import signal

    ap = argparse.ArgumentParser(prog="python -m evo.driver")
    ap.add_argument("run")
    ap.add_argument("--runs-dir", default="runs")
    ap.add_argument("--scheduler", default=None)
    args = ap.parse_args(argv)

    def interrupt(signum, frame):
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, interrupt)  # Run.stop: save the state as 'stopped'
    try:
        resume_run(args.run, RunStore(args.runs_dir), _print_progress, args.scheduler)
    except StoreError as exc:
        print(f"error: {exc}", flush=True)
        return 2
    except KeyboardInterrupt:
        print("stopped", flush=True)
        return 130
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
