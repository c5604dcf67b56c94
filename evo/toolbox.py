"""DEAP registration: ``creator.Individual`` is a :class:`Genome` with a fitness, and the toolbox
binds our operators to one seeded generator.

This is DEAP's creator/toolbox half; the generation loop (the ``algorithms`` half) is the
engine's. DEAP's own variation helpers (``varAnd``, ``selTournament``) draw from the global
``random`` module, so everything here takes the run's ``random.Random`` instead: same seed, same
children.

Toolbox conventions follow DEAP: ``mate(a, b) -> (child1, child2)``, ``mutate(ind) -> (child,)``,
``select(population, k) -> list``. Unlike DEAP's in-place operators these return new individuals
with invalid fitness, so parents (and the hall of fame) are never modified. Each child carries
``op`` (the operator's name) and ``parents`` (``genome_id`` of each parent) for lineage.
"""

from __future__ import annotations

import random
from typing import Iterable

from deap import base, creator

from evo.genome import Genome, genome_id, random_genome
from evo.operators import MutationRates, crossbreed, mutate, repair, select_tournament

FITNESS = "LiandanFitness"
INDIVIDUAL = "LiandanIndividual"


def _ensure_classes() -> None:
    """Create the creator classes once per process (DEAP warns when a name is created twice)."""
    if not hasattr(creator, FITNESS):
        creator.create(FITNESS, base.Fitness, weights=(1.0,))
    if not hasattr(creator, INDIVIDUAL):
        creator.create(INDIVIDUAL, Genome, fitness=getattr(creator, FITNESS), op=str, parents=tuple)


_ensure_classes()
Individual = getattr(creator, INDIVIDUAL)
Fitness = getattr(creator, FITNESS)


def individual(genome: Genome, op: str | None = None, parents: Iterable[str] = ()) -> "Individual":
    """Wrap a genome (copied) as an individual with an empty fitness."""
    ind = Individual(**{name: _copy(getattr(genome, name)) for name in genome.__dataclass_fields__})
    ind.op = op or str(genome.origin.get("op", "")) or "seed"
    ind.parents = tuple(parents)
    return ind


def _copy(value):
    import copy

    return copy.deepcopy(value)


def as_genome(ind: Genome) -> Genome:
    """A plain :class:`Genome` (for JSON, decoding, or handing to code that must not see fitness)."""
    return Genome(**{name: _copy(getattr(ind, name)) for name in Genome.__dataclass_fields__})


def make_toolbox(
    rng: random.Random,
    rates: MutationRates | None = None,
    ratio: tuple[float, float] = (0.3, 0.7),
    crossover_mode: str = "genes",
    tournsize: int = 3,
) -> base.Toolbox:
    """A toolbox whose every random draw comes from ``rng``.

    ``ratio``: each mating draws its blend ratio uniformly from this interval; the second child is
    the mirror image (same ratio, parents swapped).
    """
    rates = rates or MutationRates()
    lo, hi = ratio
    if not 0.0 <= lo <= hi <= 1.0:
        raise ValueError(f"ratio range must satisfy 0 <= lo <= hi <= 1, not {ratio}")
    tb = base.Toolbox()

    def mate(a: Genome, b: Genome):
        r = rng.uniform(lo, hi)
        ids = (genome_id(a), genome_id(b))
        c1 = crossbreed(a, b, r, rng, crossover_mode)
        c2 = crossbreed(b, a, r, rng, crossover_mode)
        return individual(c1, "crossbreed", ids), individual(c2, "crossbreed", ids[::-1])

    def mutate_one(a: Genome):
        return (individual(mutate(a, rng, rates), "mutate", (genome_id(a),)),)

    def repair_one(a: Genome):
        out = individual(repair(a), getattr(a, "op", None), getattr(a, "parents", ()))
        out.origin = dict(a.origin)
        return out

    tb.register("random_individual", lambda: individual(random_genome(rng), "random"))
    tb.register("individual", individual)
    tb.register("mate", mate)
    tb.register("mutate", mutate_one)
    tb.register("repair", repair_one)
    tb.register("select", lambda population, k: select_tournament(population, k, rng, tournsize))
    tb.rates = rates
    return tb
