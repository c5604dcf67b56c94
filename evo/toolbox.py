"""DEAP's toolbox half: which operators a run uses, bound to the run's own random generator.

A generation core never names a concrete operator; it calls ``toolbox.mate``,
``toolbox.mutate``, ``toolbox.repair``, ``toolbox.select`` and ``toolbox.evaluate``, so swapping
one is one ``register`` line, as in DEAP. Unlike DEAP's own helpers (``varAnd``,
``selTournament``), which draw from the global ``random`` module, everything here draws from the
run's ``random.Random``: same seed, same children. Operators return new genomes; parents (and the
hall of fame) are never modified.

    mate(a, b, ratio) -> Genome              evo.operators.crossbreed
    mutate(genome) -> Genome                 evo.operators.mutate (with ga.safe_ranges when set)
    repair(genome) -> Genome                 evo.operators.repair (clamping into those ranges' limits)
    random_genome() -> Genome                evo.genome.random_genome
    select(pool, avoid=None) -> PoolEntry    one tournament, or with ga.diversity = "sharing" one
                                             draw in proportion to the shared score (evo.selection)
    evaluate(individuals) -> individuals     the driver's evaluator, when one is given
"""

from __future__ import annotations

import random
from typing import Callable

from deap import base

from evo.config import GASection
from evo.genome import random_genome
from evo.mining.safe_ranges import load_safe_ranges
from evo.operators import MutationRates, crossbreed, mutate, repair
from evo.selection import select_proportional, select_tournament


def make_toolbox(ga: GASection, rng: random.Random, evaluate: Callable | None = None) -> base.Toolbox:
    tb = base.Toolbox()
    tb.register("mate", crossbreed, rng=rng, decimals=ga.blend_decimals or None)
    ranges = load_safe_ranges(ga.safe_ranges) if ga.safe_ranges else None
    tb.register("mutate", mutate, rng=rng, rates=MutationRates.from_dict(ga.mutation_rates), ranges=ranges)
    tb.register("repair", repair, ranges=ranges)
    tb.register("random_genome", random_genome, rng)
    if ga.diversity == "sharing":  # sharing needs proportional selection: tournaments undo it (Oei et al. 1991)
        tb.register("select", select_proportional, rng=rng)
    else:
        tb.register("select", select_tournament, rng=rng, size=ga.tournament_size)
    if evaluate is not None:
        tb.register("evaluate", evaluate)
    return tb
