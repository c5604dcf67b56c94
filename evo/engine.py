"""The generation loop (DEAP's "algorithms" half; genomes and operators are the other half).

One generation: evaluate the pending individuals -> checkpoint -> (interactive: wait for votes)
-> select parents (elitism + tournament on the combined machine/vote score of evo.votes, from the
current population minus disliked genomes plus liked ones from earlier generations) -> make
offspring -> checkpoint again with the offspring as ``next`` and the exact votes used (a
snapshot by genome and the last vote id), so selection is a pure function of checkpoint, vote
snapshot and RNG state (:meth:`Engine.replay_selection` recomputes it). Evaluation is a pure function of genome and
settings and never touches the run's random generators, so a run is the same whether it was
evaluated by 1 or 8 workers, and a run killed at any point resumes exactly: the generators are
restored from the last checkpoint (as JSON) and everything after it is replayed.

Randomness: one ``random.Random`` (operators, tournaments) and one ``numpy.random.Generator``
(seed sampling), both seeded from ``run.seed``; no global random state is ever used.
"""

from __future__ import annotations

import random
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import numpy as np
from deap import base, tools

from evo.config import RunConfig, default_seeds_dir
from evo.evaluate import Task, make_evaluator
from evo.fitness import WORST_SCORE, EvalSettings
from evo.store import Run, RunStore, StoreError, atomic_write_bytes
from evo.votes import ParentPool, VoteRule, combined_score, summary_from_json, summary_to_json

__all__ = ["Engine", "Member", "combined_score", "start_run", "resume_run", "branch_run", "rng_state", "restore_rng",
           "replay_selection"]
VOTE_POLL_S = 1.0  # how often an interactive run looks for new votes (tests make it shorter)

Progress = Callable[[dict], None]


class ScoreFitness(base.Fitness):
    """Single-objective fitness for DEAP's HallOfFame (a class, not ``creator``: no global state)."""

    weights = (1.0,)


@dataclass
class Member:
    id: str
    generation: int
    genome: Any  # evo.genome.Genome
    genome_id: str
    parents: list[str]
    operator: str
    result: dict | None = None
    fitness: ScoreFitness = field(default_factory=ScoreFitness)

    @property
    def score(self) -> float:
        return WORST_SCORE if self.result is None else float(self.result["score"])


# ---------------------------------------------------------------- RNG state as JSON


def rng_state(py: random.Random, npg: np.random.Generator) -> dict:
    version, internal, gauss = py.getstate()
    return {"python": [version, list(internal), gauss], "numpy": npg.bit_generator.state}


_BIT_GENERATORS = {"PCG64": np.random.PCG64, "PCG64DXSM": np.random.PCG64DXSM, "Philox": np.random.Philox,
                   "SFC64": np.random.SFC64, "MT19937": np.random.MT19937}


def restore_rng(state: dict) -> tuple[random.Random, np.random.Generator]:
    """Inverse of :func:`rng_state`; a malformed state raises ValueError."""
    try:
        py = random.Random()
        version, internal, gauss = state["python"]
        py.setstate((version, tuple(internal), gauss))
        bitgen = _BIT_GENERATORS[state["numpy"]["bit_generator"]]()
        bitgen.state = state["numpy"]
    except (KeyError, TypeError, ValueError, OverflowError) as exc:
        raise ValueError(f"not a saved random state ({type(exc).__name__}: {exc})") from exc
    return py, np.random.Generator(bitgen)


def ind_id(generation: int, index: int) -> str:
    return f"g{generation:04d}-{index:03d}"


# ---------------------------------------------------------------- the engine


class Engine:
    def __init__(self, run: Run, config: RunConfig, progress: Progress | None = None, address: str | None = None):
        self.run = run
        self.cfg = config
        self.progress = progress or (lambda event: None)
        self.settings = EvalSettings.from_config(config)
        self.address = address
        self.hof = tools.HallOfFame(config.ga.hall_of_fame, similar=_same_look)
        self.logbook = tools.Logbook()
        self.cache: dict[str, tuple[str, dict]] = {}  # genome_id -> (first individual id, result)
        self.archive: dict[str, Member] = {}  # genome_id -> its latest healthy member: re-entry candidates
        self.rule = VoteRule.from_config(config.votes)
        self.evaluator = None

    # ---- entry points

    def run_from_start(self) -> None:
        py, npg = random.Random(self.cfg.run.seed), np.random.default_rng(self.cfg.run.seed)
        pending = initial_population(self.cfg, py, npg, self.run.config.get("branch"))
        self._loop(0, pending, py, npg)

    def resume(self) -> None:
        for stale in self.run.dir.rglob(".*.tmp*"):  # half-written files of a killed engine
            stale.unlink(missing_ok=True)
        gens = self.run.generations()
        if not gens:
            return self.run_from_start()
        last = gens[-1]
        try:
            for g in gens:
                self._absorb_checkpoint(self.run.read_checkpoint(g))
            ck = self.run.read_checkpoint(last)
            members = [self._member_from_record(rec) for rec in ck["individuals"]]
            if ck.get("next"):
                py, npg = restore_rng(ck["next"]["rng"])
                pending = [self._member_from_record(rec) for rec in ck["next"]["offspring"]]
            else:
                py, npg = restore_rng(ck["rng"])
        except StoreError:
            raise
        except (KeyError, TypeError, ValueError) as exc:  # GenomeError too: a damaged or hand-edited checkpoint
            raise StoreError(f"{self.run.checkpoint_path(last)}: cannot resume: {type(exc).__name__}: {exc}") from exc
        if last + 1 >= self.cfg.run.generations:
            self._finish(last)
            return
        if not ck.get("next"):
            if self.cfg.run.mode == "interactive":
                self._wait_for_votes(last)
            pending = self._select_and_vary(last, members, py, npg, ck)
        self._loop(last + 1, pending, py, npg)

    # ---- the loop

    def _loop(self, g: int, pending: list[Member], py: random.Random, npg: np.random.Generator) -> None:
        self.evaluator = make_evaluator(self.settings, self.cfg.evaluation.workers, self.address)
        try:
            self.evaluator.start()
            while True:
                if g >= self.cfg.run.generations:
                    self._finish(g - 1)
                    return
                self.run.write_state("running", g, n_generations=self.cfg.run.generations)
                t0 = time.monotonic()
                members = self._evaluate(g, pending)
                seconds = time.monotonic() - t0
                self._archive(members)
                self.hof.update([m for m in members if m.score > WORST_SCORE])  # no black screens on the sheet
                record = self._record(g, members)
                self.logbook.record(**record)
                ck = self._checkpoint_body(g, members, rng_state(py, npg), seconds)
                self.run.write_checkpoint(g, ck)
                self.progress({"type": "generation_end", "generation": g, "record": record, "seconds": seconds,
                               "evaluated": sum(1 for m in members if not m.result.get("cached_from"))})
                if g + 1 >= self.cfg.run.generations:
                    self._finish(g)
                    return
                if self.cfg.run.mode == "interactive":
                    self._wait_for_votes(g)
                pending = self._select_and_vary(g, members, py, npg, ck)
                g += 1
        except KeyboardInterrupt:  # Ctrl-C or SIGTERM from the UI's stop button
            self.run.write_state("stopped", g, n_generations=self.cfg.run.generations)
            raise
        finally:
            self.evaluator.close()
            self.evaluator = None

    def _evaluate(self, g: int, pending: list[Member]) -> list[Member]:
        from evo.genome import preset_from_genome
        from renderer.preset import dump_milk

        self.progress({"type": "generation_start", "generation": g, "total": len(pending)})
        tasks, waiting = [], {}
        for m in pending:
            d = self.run.individual_dir(m.id)
            d.mkdir(parents=True, exist_ok=True)
            try:
                text = dump_milk(preset_from_genome(m.genome))
                atomic_write_bytes(d / "preset.milk", text.encode("latin-1", errors="replace"))
            except Exception as exc:  # noqa: BLE001 - an undecodable genome is this candidate's error
                m.result = _error(f"cannot write preset: {type(exc).__name__}: {exc}")
                self.cache.setdefault(m.genome_id, (m.id, m.result))
                continue
            if m.genome_id in self.cache:
                src, result = self.cache[m.genome_id]
                m.result = {**result, "cached_from": src, "seconds": 0.0, "cpu_seconds": 0.0}
                _copy_previews(self.run.individual_dir(src), d)
            elif m.genome_id in waiting:  # the same genome twice in one generation: render it once
                waiting[m.genome_id].append(m)
            else:
                waiting[m.genome_id] = [m]
                tasks.append(Task(m.id, m.genome.to_json(), str(d)))
        done = len(pending) - len(tasks)
        by_id = {ms[0].id: ms for ms in waiting.values()}
        for key, result in self.evaluator.run(tasks):
            first, *dupes = by_id[key]
            first.result = result
            self.cache.setdefault(first.genome_id, (first.id, _cacheable(result)))
            for m in dupes:
                m.result = {**result, "cached_from": first.id, "seconds": 0.0, "cpu_seconds": 0.0}
                _copy_previews(self.run.individual_dir(first.id), self.run.individual_dir(m.id))
            done += 1 + len(dupes)
            self.progress({"type": "evaluated", "generation": g, "done": done, "total": len(pending),
                           "id": key, "score": result["score"], "error": result.get("error")})
        for m in pending:
            if m.result is None:
                m.result = _error("evaluation returned no result")
            m.fitness.values = (m.score,)
        return pending

    def _record(self, g: int, members: list[Member]) -> dict:
        scores = np.array([m.score for m in members], dtype=np.float64)
        return {
            "gen": g,
            "nevals": sum(1 for m in members if not m.result.get("cached_from")),
            "best": float(scores.max()),
            "mean": float(scores.mean()),
            "std": float(scores.std()),
            "min": float(scores.min()),
            "errors": sum(1 for m in members if m.result.get("error")),
            "degenerate": sum(1 for m in members if m.result.get("degenerate")),
        }

    def _checkpoint_body(self, g: int, members: list[Member], rng: dict, seconds: float) -> dict:
        return {
            "individuals": [self._record_of(m) for m in members],
            "rng": rng,
            "hall_of_fame": [{"id": h.id, "score": h.score, "genome_id": h.genome_id} for h in self.hof],
            "logbook": [dict(r) for r in self.logbook],
            "settings": self.settings.to_dict(),
            "next": None,
            "timing": {"seconds": round(seconds, 3), "evals_per_s": round(len(members) / seconds, 3) if seconds else None},
        }

    def _record_of(self, m: Member) -> dict:
        r = m.result or {}
        return {
            "id": m.id, "generation": m.generation, "genome": m.genome.to_json(), "genome_id": m.genome_id,
            "parents": list(m.parents), "operator": m.operator, "score": m.score, "stats": r.get("stats", {}),
            "degenerate": r.get("degenerate"), "error": r.get("error"), "warnings": r.get("warnings", []),
            "cached_from": r.get("cached_from"), "timing": {"seconds": r.get("seconds", 0.0), "cpu_seconds": r.get("cpu_seconds", 0.0)},
        }

    # ---- selection and variation

    def _select_and_vary(self, g: int, members: list[Member], py: random.Random, npg: np.random.Generator,
                         ck: dict, votes: tuple[dict, int] | None = None, write: bool = True) -> list[Member]:
        """Parents from the vote-aware pool (evo.votes), then crossbreed/mutate; ``votes`` replays
        a recorded snapshot instead of reading the vote store."""
        from evo.genome import genome_id
        from evo.operators import MutationRates, crossbreed, mutate, repair

        by_genome, cutoff = votes if votes is not None else self.run.genome_votes()
        pool = ParentPool.build(members, list(self.archive.values()), by_genome, self.rule)
        offspring = [Member(ind_id(g + 1, k), g + 1, c.member.genome.copy(), c.member.genome_id, [c.member.id], "elite")
                     for k, c in enumerate(pool.elites(self.cfg.ga.elite))]

        def tournament(avoid: str | None = None) -> Member:
            return pool.tournament(py, self.cfg.ga.tournament_size, avoid).member

        rates = MutationRates.from_dict(self.cfg.ga.mutation_rates)
        while len(offspring) < self.cfg.run.population:
            if py.random() < self.cfg.ga.crossover_prob:
                a = tournament()
                b = tournament(avoid=a.genome_id)
                parents, op = [a.id, b.id], "crossbreed"
                ratio, mutate_too = py.uniform(0.2, 0.8), py.random() < self.cfg.ga.mutation_prob
            else:
                a = tournament()
                parents, op, ratio, mutate_too = [a.id], "mutate", 0.0, True
            try:
                child = crossbreed(a.genome, b.genome, ratio, py) if op == "crossbreed" else a.genome
                if mutate_too:
                    child = mutate(child, py, rates)
                    op = "crossbreed+mutate" if op == "crossbreed" else "mutate"
                child = repair(child)
            except Exception as exc:  # noqa: BLE001 - an operator bug costs one child, never the run
                child, op = a.genome.copy(), f"clone ({op} failed: {type(exc).__name__}: {exc})"[:300]
            offspring.append(Member(ind_id(g + 1, len(offspring)), g + 1, child, genome_id(child), parents, op))
        ck["next"] = {
            "parents": pool.reasons(),
            "excluded": pool.excluded,
            "votes_used": pool.votes_used(),
            "votes": {"cutoff": cutoff, "by_genome": summary_to_json(by_genome)},
            "offspring": [{"id": m.id, "generation": m.generation, "genome": m.genome.to_json(), "genome_id": m.genome_id,
                           "parents": m.parents, "operator": m.operator} for m in offspring],
            "rng": rng_state(py, npg),
        }
        for rec, m in zip(ck["individuals"], members):
            rec["combined"] = self.rule.combined(m.score, by_genome.get(m.genome_id))
        if write:
            self.run.write_checkpoint(g, ck)
        return offspring

    def replay_selection(self, g: int) -> dict:
        """Generation ``g``'s selection recomputed from its checkpoint and the votes it recorded
        (the ``next`` it should have saved): the check that a run is reproducible from its vote log."""
        import copy

        for x in self.run.generations():
            if x <= g:
                self._absorb_checkpoint(self.run.read_checkpoint(x))
        ck = copy.deepcopy(self.run.read_checkpoint(g))
        recorded = (ck.get("next") or {}).get("votes")
        if recorded is None:
            raise StoreError(f"{self.run.checkpoint_path(g)}: no recorded selection to replay")
        try:
            votes = (summary_from_json(recorded["by_genome"]), int(recorded["cutoff"]))
            members = [self._member_from_record(rec) for rec in ck["individuals"]]
            py, npg = restore_rng(ck["rng"])
        except (KeyError, TypeError, ValueError) as exc:
            raise StoreError(f"{self.run.checkpoint_path(g)}: cannot replay: {type(exc).__name__}: {exc}") from exc
        self._select_and_vary(g, members, py, npg, ck, votes=votes, write=False)
        return ck["next"]

    def _archive(self, members: list[Member]) -> None:
        for m in members:
            if m.result is not None and not m.result.get("error"):
                self.archive[m.genome_id] = m

    def _wait_for_votes(self, g: int) -> None:
        """Interactive mode: hold selection until ``votes_needed`` distinct (voter, individual)
        votes on generation ``g`` arrive or the timeout passes."""
        need, limit = self.cfg.run.votes_needed, self.cfg.run.vote_timeout_s
        t0 = time.monotonic()
        self.run.write_state("waiting_votes", g, votes_needed=need, n_generations=self.cfg.run.generations)
        while (have := self.run.vote_count(g)) < need and time.monotonic() - t0 < limit:
            self.progress({"type": "waiting_votes", "generation": g, "votes": have, "needed": need})
            time.sleep(VOTE_POLL_S)

    # ---- resume support

    def _member_from_record(self, rec: dict) -> Member:
        from evo.genome import Genome

        m = Member(rec["id"], int(rec["generation"]), Genome.from_json(rec["genome"]), rec["genome_id"],
                   list(rec.get("parents", [])), rec.get("operator", ""))
        if "score" in rec:
            m.result = {"score": rec["score"], "stats": rec.get("stats", {}), "degenerate": rec.get("degenerate"),
                        "error": rec.get("error"), "warnings": rec.get("warnings", []), "cached_from": rec.get("cached_from")}
            m.fitness.values = (m.score,)
        return m

    def _absorb_checkpoint(self, ck: dict) -> None:
        """Rebuild the cache, hall of fame and logbook exactly as the uninterrupted run had them."""
        for rec in ck["individuals"]:
            if not rec.get("cached_from"):
                m = self._member_from_record(rec)
                self.cache.setdefault(m.genome_id, (m.id, _cacheable(m.result)))
        self._archive([self._member_from_record(rec) for rec in ck["individuals"]])
        by_id = {rec["id"]: rec for rec in ck["individuals"]}
        self.hof.clear()
        # HallOfFame.insert puts a later-inserted tie first: insert worst-first to get the saved order.
        for h in reversed(ck.get("hall_of_fame", [])):
            rec = by_id.get(h["id"]) or self._find_record(h["id"])
            self.hof.insert(self._member_from_record(rec))
        self.logbook = tools.Logbook()
        for r in ck.get("logbook", []):
            self.logbook.record(**r)

    def _find_record(self, ind: str) -> dict:
        g = self.run.generation_of(ind)
        for rec in self.run.read_checkpoint(g)["individuals"]:
            if rec["id"] == ind:
                return rec
        raise StoreError(f"{self.run.checkpoint_path(g)}: hall of fame names missing individual {ind}")

    def _finish(self, g: int) -> None:
        sheet = write_contact_sheet(self.run, [h.id for h in self.hof])
        self.run.write_state("finished", g, n_generations=self.cfg.run.generations, contact_sheet=str(sheet))
        self.progress({"type": "finished", "generation": g, "contact_sheet": str(sheet)})


def _same_look(a: Member, b: Member) -> bool:
    """Hall-of-fame duplicates: the same genome, or a variant whose changes cannot be seen
    (every statistic identical), which would otherwise fill the sheet with one picture."""
    if a.genome_id == b.genome_id:
        return True
    sa, sb = (a.result or {}).get("stats"), (b.result or {}).get("stats")
    return bool(sa) and sa == sb


def _error(message: str) -> dict:
    return {"score": WORST_SCORE, "stats": {}, "degenerate": None, "error": message, "warnings": []}


def _cacheable(result: dict) -> dict:
    return {k: v for k, v in result.items() if k not in ("cached_from", "seconds", "cpu_seconds")}


def _copy_previews(src: Path, dst: Path) -> None:
    for name in ("preview.webp", "still.png"):
        s = src / name
        if s.is_file():
            atomic_write_bytes(dst / name, s.read_bytes())


# ---------------------------------------------------------------- first population


def seed_files(seeds_dir: Path) -> list[Path]:
    """Every .milk under ``seeds_dir``, in a platform-independent order (sorted relative paths)."""
    if not seeds_dir.is_dir():
        raise FileNotFoundError(f"{seeds_dir}: seed folder does not exist")
    return sorted((p for p in seeds_dir.rglob("*.milk") if p.is_file()), key=lambda p: p.relative_to(seeds_dir).as_posix())


def sample_seeds(seeds_dir: Path, n: int, npg: np.random.Generator, md1_only: bool) -> list[tuple[str, Any]]:
    """``n`` distinct seed genomes drawn at random (skipping unreadable and, if asked, shader presets)."""
    from evo.genome import genome_from_preset, genome_id
    from renderer.preset import PresetError, load_milk

    files = seed_files(seeds_dir)
    out, seen = [], set()
    for i in npg.permutation(len(files)) if files else []:
        if len(out) >= n:
            break
        try:
            preset = load_milk(files[int(i)])
        except PresetError:
            continue
        if md1_only and preset.has_shaders:
            continue
        genome = genome_from_preset(preset)
        gid = genome_id(genome)
        if gid not in seen:
            seen.add(gid)
            out.append((files[int(i)].relative_to(seeds_dir).as_posix(), genome))
    return out


def initial_population(cfg: RunConfig, py: random.Random, npg: np.random.Generator, branch: dict | None = None) -> list[Member]:
    """Seeds (or the branched individual), topped up with their mutants, then random genomes."""
    from evo.genome import Genome, genome_id, random_genome
    from evo.operators import MutationRates, mutate, repair

    n = cfg.run.population
    n_random = 0 if branch else int(round(n * cfg.seeds.random_fraction))
    base: list[tuple[Any, list[str], str]] = []
    if branch:
        base.append((Genome.from_json(branch["genome"]), [f"{branch['run']}/{branch['individual']}"], "branch"))
    elif n - n_random > 0:
        for rel, genome in sample_seeds(default_seeds_dir(cfg), n - n_random, npg, cfg.seeds.md1_only):
            base.append((genome, [f"seed:{rel}"], "seed"))
    members = [Member(ind_id(0, i), 0, g, genome_id(g), parents, op) for i, (g, parents, op) in enumerate(base)]
    rates = MutationRates.from_dict(cfg.ga.mutation_rates)
    n_base = len(members)
    while len(members) < n:
        if n_base and len(members) < n - n_random:  # too few seeds: mutants of them
            parent = members[py.randrange(n_base)]
            g, parents, op = repair(mutate(parent.genome, py, rates)), [parent.id], "mutate"
        else:
            g, parents, op = random_genome(py), [], "random"
        members.append(Member(ind_id(0, len(members)), 0, g, genome_id(g), parents, op))
    return members


# ---------------------------------------------------------------- hall-of-fame sheet


def write_contact_sheet(run: Run, ids: list[str], columns: int = 4, tile: int = 128) -> Path:
    """A labelled grid of the hall of fame's stills (what a person looks at first after a run)."""
    import io

    from PIL import Image

    info = {}
    for g in run.generations()[-1:]:
        info = {rec["id"]: rec for rec in run.read_checkpoint(g).get("hall_of_fame", [])}
    labels, images = [], []
    for k, ind in enumerate(ids):
        score = info.get(ind, {}).get("score")
        labels.append(f"#{k + 1} {ind}" + (f"  {score:.3f}" if isinstance(score, (int, float)) else ""))
        still = run.still_path(ind)
        if still.is_file():
            with Image.open(still) as im:
                images.append(np.asarray(im.convert("RGB").resize((tile, tile), Image.BILINEAR)))
        else:
            images.append(None)
    try:
        from renderer.contact_sheet import Tile, contact_sheet

        tiles = [Tile(name, image, "no preview") for name, image in zip(labels, images)]
        sheet = contact_sheet(tiles or [Tile("(empty hall of fame)", None, "no individuals")], columns=columns,
                              tile_size=(tile, tile))
    except ImportError:  # the renderer's sheet not available: a plain grid
        from PIL import ImageDraw

        rows = max(1, (len(ids) + columns - 1) // columns)
        sheet = Image.new("RGB", (columns * tile, rows * (tile + 14)), (16, 16, 16))
        draw = ImageDraw.Draw(sheet)
        for k, (name, image) in enumerate(zip(labels, images)):
            x, y = (k % columns) * tile, (k // columns) * (tile + 14)
            if image is not None:
                sheet.paste(Image.fromarray(image), (x, y))
            draw.text((x + 3, y + tile + 1), name, fill=(230, 230, 230))
    buf = io.BytesIO()
    sheet.save(buf, "PNG")
    atomic_write_bytes(run.contact_sheet_path, buf.getvalue())
    return run.contact_sheet_path


# ---------------------------------------------------------------- public API


def start_run(config: RunConfig, store: RunStore, run_id: str | None = None, progress: Progress | None = None,
              address: str | None = None) -> str:
    seeds = default_seeds_dir(config)
    if config.seeds.random_fraction < 1.0 and not seeds.is_dir():
        raise FileNotFoundError(f"{seeds}: seed folder does not exist")
    run = store.create(store.new_run_id(run_id), config.to_dict())
    Engine(run, config, progress, address).run_from_start()
    return run.id


def _config_of(run: Run) -> RunConfig:
    data = {k: v for k, v in run.config.items() if k not in ("id", "created", "branch")}
    try:
        return RunConfig.from_dict(data, str(run.dir / "config.json"))
    except ValueError as exc:
        raise StoreError(str(exc)) from exc


def resume_run(run_id: str, store: RunStore, progress: Progress | None = None, address: str | None = None) -> str:
    run = store.open(run_id)
    if run.status == "running":
        raise StoreError(f"{run.dir / 'state.json'}: run {run_id} is running (pid {run.state.get('pid')})")
    Engine(run, _config_of(run), progress, address).resume()
    return run.id


def replay_selection(run: Run, g: int) -> dict:
    """What generation ``g``'s selection gives from its checkpoint and recorded votes (equal to the
    saved ``next`` for an untampered run, whatever votes arrived since)."""
    return Engine(run, _config_of(run)).replay_selection(g)


def branch_run(run_id: str, ind: str, store: RunStore, run_name: str | None = None, **overrides: Any) -> str:
    """A new run (not started: ``liandan resume NEW`` starts it) seeded with one individual.

    Its first population is that individual plus mutants of it; ``overrides`` are dotted config
    keys (``{"run.generations": 5}``) or plain RunSection names (``population=8``).
    """
    src = store.open(run_id)
    individual = src.individual(ind)
    cfg = _config_of(src)
    dotted = {(k if "." in k else f"run.{k}"): v for k, v in overrides.items()}
    cfg = cfg.with_overrides(dotted)
    new = store.create(store.new_run_id(run_name), {**cfg.to_dict(), "branch": {"run": run_id, "individual": ind,
                                                                              "genome": individual.genome}})
    new.write_state("stopped", -1)
    return new.id
