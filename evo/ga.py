"""The generational GA as an ask/tell core (DEAP's "algorithms" half, written against the toolbox).

    core = GenerationalGA(config, toolbox, py, npg)
    pending = core.first_generation()                 # seeds, their mutants, random genomes
    ...the driver evaluates pending, checkpoints, waits for votes...
    selection, offspring = core.tell(evaluated, votes)  # parents (elites + tournaments) -> children

The core owns the random generators and the re-entry archive (liked genomes from earlier
generations); the driver (:mod:`evo.driver`) owns everything with side effects: evaluation, the
run folder, resume and vote polling. Selection is a pure function of the evaluated generation,
the archive, the vote snapshot and the RNG state, which is what makes a run reproducible from its
checkpoints and vote log.
"""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any, Callable

import numpy as np

from evo.checkpoint import SelectionRecord
from evo.config import GASection, RunConfig, default_seeds_dir
from evo.genome import Genome, genome_from_preset, genome_id
from evo.individual import Individual, individual_id
from evo.niching import descent_roots
from evo.predictor.use import TasteUse, prescreen, taste_rule
from evo.selection import ParentPool, VoteRule, VoteSummary, summary_to_json
from renderer.milk.files import find_presets
from renderer.milk.preset import PresetError, load_milk


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


class GenerationalGA:
    """Elitism + tournaments on the combined (machine + vote) score, then crossbreed/mutate."""

    def __init__(self, config: RunConfig, toolbox, py: random.Random, npg: np.random.Generator):
        self.cfg = config
        self.toolbox = toolbox
        self.py, self.npg = py, npg
        self.rule = VoteRule.from_config(config.votes)
        self.archive: dict[str, Individual] = {}  # genome_id -> its latest healthy individual: re-entry candidates
        self.roots: dict[str, frozenset] = {}  # individual id -> the seeds it descends from (evo.niching)

    def rng_state(self) -> dict:
        return rng_state(self.py, self.npg)

    # what the driver asks of every core; the GA keeps no archive and no vote state between selections
    def archive_record(self) -> None:
        return None

    def log_fields(self, members: list[Individual]) -> dict:
        """How many seed presets the generation descends from (``lineages``)."""
        seeds = set().union(*(self.roots.get(m.id, frozenset()) for m in members)) if members else set()
        return {"lineages": sum(1 for r in seeds if r.startswith("seed:"))}

    def saw_votes(self, by_genome: dict, cutoff: int) -> None:
        pass

    # ---- ask

    def first_generation(self, branch: dict | None = None) -> list[Individual]:
        """Seeds (or the branched individual), topped up with their mutants, then random genomes."""
        return first_population(self.cfg, self.toolbox, self.py, self.npg, branch)

    # ---- tell

    def remember(self, members: list[Individual]) -> None:
        """Add an evaluated generation to the re-entry archive and the family tree (also when
        resuming from checkpoints)."""
        for m in members:
            self.roots[m.id] = descent_roots(m.parents, self.roots, m.id)
            if m.result is not None and not m.error:
                self.archive[m.genome_id] = m

    def tell(self, g: int, members: list[Individual], votes: tuple[dict[str, VoteSummary], int],
             taste: TasteUse | None = None) -> tuple[SelectionRecord, list[Individual], dict[str, float]]:
        """Select generation ``g``'s parents with the vote snapshot ``votes`` (tallies by genome,
        last vote id) and breed generation g+1. ``taste``: the taste model this selection uses
        (evo.predictor.use), whose P(liked) joins the combined score and which may pre-screen the
        children (their parents' draw counts include the children pre-screening left out). Returns the selection record, the offspring and each member's combined score."""
        cfg, tb, py = self.cfg, self.toolbox, self.py
        by_genome, cutoff = votes
        rule, predict = taste_rule(taste, self.rule)
        sharing = (cfg.ga.niche_radius, cfg.ga.sharing_alpha) if cfg.ga.diversity == "sharing" else None
        pool = ParentPool.build(members, list(self.archive.values()), by_genome, rule, sharing, self.roots, predict)
        offspring = [Individual(individual_id(g + 1, k), g + 1, c.member.genome.copy(), c.member.genome_id,
                                [c.member.id], "elite")
                     for k, c in enumerate(pool.elites(cfg.ga.elite))]
        pick = lambda avoid=None: tb.select(pool, avoid=avoid).member  # noqa: E731
        need = cfg.run.population - len(offspring)
        if taste is not None and taste.prescreens and need > 0:
            bred = [breed_child(tb, py, cfg.ga, pick, "", g + 1) for _ in range(taste.prescreen * need)]
            liked = taste.liked_genomes(bred)
            for i, why in prescreen(bred, need, liked, taste.explore):
                child = bred[i]
                child.id, child.shown = individual_id(g + 1, len(offspring)), why
                child.predicted = round(float(liked[i]), 4)
                offspring.append(child)
        while len(offspring) < cfg.run.population:
            offspring.append(breed_child(tb, py, cfg.ga, pick, individual_id(g + 1, len(offspring)), g + 1))
        selection = SelectionRecord(
            parents=pool.reasons(), excluded=pool.excluded, votes_used=pool.votes_used(), vote_cutoff=cutoff,
            votes_by_genome=summary_to_json(by_genome), offspring=[o.to_offspring() for o in offspring],
            rng=self.rng_state(), predictor=None if taste is None else taste.to_json())
        by_id = {c.member.id: c for c in pool.candidates}
        combined = {m.id: by_id[m.id].combined if m.id in by_id else rule.combined(
                    m.score, by_genome.get(m.genome_id), None if predict is None or m.error else predict(m))
                    for m in members}
        return selection, offspring, combined


# ---------------------------------------------------------------- shared with the quality-diversity core


def first_population(cfg: RunConfig, tb, py: random.Random, npg: np.random.Generator,
                     branch: dict | None = None) -> list[Individual]:
    """Generation (or batch) 0: seeds (or the branched individual), topped up with their
    mutants, then random genomes."""
    n = cfg.run.population
    n_random = 0 if branch else int(round(n * cfg.seeds.random_fraction))
    base: list[tuple[Genome, list[str], str]] = []
    if branch:
        base.append((Genome.from_json(branch["genome"]), [f"{branch['run']}/{branch['individual']}"], "branch"))
    elif n - n_random > 0:
        for rel, genome in sample_seeds(default_seeds_dir(cfg), n - n_random, npg, cfg.seeds.md1_only):
            base.append((genome, [f"seed:{rel}"], "seed"))
    members = [Individual(individual_id(0, i), 0, g, genome_id(g), parents, op)
               for i, (g, parents, op) in enumerate(base)]
    n_base = len(members)
    while len(members) < n:
        if n_base and len(members) < n - n_random:  # too few seeds: mutants of them
            parent = members[py.randrange(n_base)]
            g, parents, op = tb.repair(tb.mutate(parent.genome)), [parent.id], "mutate"
        else:
            g, parents, op = tb.random_genome(), [], "random"
        members.append(Individual(individual_id(0, len(members)), 0, g, genome_id(g), parents, op))
    return members


def breed_child(tb, py: random.Random, ga: GASection, pick: Callable[..., Individual], child_id: str,
                generation: int) -> Individual:
    """One child: crossbreed two parents (``pick()`` then ``pick(avoid=first's genome id)``) with
    probability ``ga.crossover_prob``, mutated too with ``ga.mutation_prob``; else a mutant of one.
    An operator that raises costs this child (a clone of its first parent), never the run."""
    if py.random() < ga.crossover_prob:
        a = pick()
        b = pick(avoid=a.genome_id)
        parents, op = [a.id, b.id], "crossbreed"
        ratio, mutate_too = py.uniform(0.2, 0.8), py.random() < ga.mutation_prob
    else:
        a = pick()
        parents, op, ratio, mutate_too = [a.id], "mutate", 0.0, True
    try:
        child = tb.mate(a.genome, b.genome, ratio) if op == "crossbreed" else a.genome
        if mutate_too:
            child = tb.mutate(child)
            op = "crossbreed+mutate" if op == "crossbreed" else "mutate"
        child = tb.repair(child)
    except Exception as exc:  # noqa: BLE001 - an operator bug costs one child, never the run
        child, op = a.genome.copy(), f"clone ({op} failed: {type(exc).__name__}: {exc})"[:300]
    return Individual(child_id, generation, child, genome_id(child), parents, op)


# ---------------------------------------------------------------- seeds


def sample_seeds(seeds_dir: Path, n: int, npg: np.random.Generator, md1_only: bool) -> list[tuple[str, Any]]:
    """``n`` distinct seed genomes drawn at random (skipping unreadable and, if asked, shader presets)."""
    if not seeds_dir.is_dir():
        raise FileNotFoundError(f"{seeds_dir}: seed folder does not exist")
    files = find_presets(seeds_dir)
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
