"""The individual a generation core works with: a decoded genome, where it came from, and (once
evaluated) its result and DEAP fitness.

Its saved form is :class:`evo.checkpoint.IndividualRecord` (genome as JSON); this is the live
form, with a :class:`~evo.genome.Genome` that the operators can vary.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from deap import base

from evo.checkpoint import IndividualRecord, OffspringRecord, Result
from evo.fitness.score import WORST_SCORE
from evo.genome import Genome


class Fitness(base.Fitness):
    """Single-objective fitness for DEAP's HallOfFame (a class, not ``creator``: no global state)."""

    weights = (1.0,)


@dataclass
class Individual:
    id: str
    generation: int
    genome: Genome
    genome_id: str
    parents: list[str]
    operator: str
    result: Result | None = None
    fitness: Fitness = field(default_factory=Fitness)
    shown: str = ""  # why pre-screening kept it ("promising" / "uncertain"); "" without pre-screening
    predicted: float | None = None  # the genome model's P(liked) when it was kept

    @property
    def score(self) -> float:
        return WORST_SCORE if self.result is None else float(self.result.score)

    @property
    def error(self) -> str | None:
        return None if self.result is None else self.result.error

    def set_result(self, result: Result) -> None:
        self.result = result
        self.fitness.values = (self.score,)

    def to_record(self) -> IndividualRecord:
        r = self.result or Result()
        return IndividualRecord(self.id, self.generation, self.genome.to_json(), self.genome_id, list(self.parents),
                                self.operator, self.score, r.stats, r.degenerate, r.error, r.warnings, r.cached_from,
                                r.seconds, r.cpu_seconds, descriptors=r.descriptors,
                                look=r.look, shown=self.shown, predicted=self.predicted)

    def to_offspring(self) -> OffspringRecord:
        return OffspringRecord(self.id, self.generation, self.genome.to_json(), self.genome_id, list(self.parents),
                               self.operator, self.shown, self.predicted)

    @classmethod
    def from_record(cls, rec: IndividualRecord | OffspringRecord) -> "Individual":
        ind = cls(rec.id, rec.generation, Genome.from_json(rec.genome), rec.genome_id, list(rec.parents), rec.operator,
                  shown=getattr(rec, "shown", ""), predicted=getattr(rec, "predicted", None))
        result = getattr(rec, "result", None)
        if result is not None:
            ind.set_result(result)
        return ind


def individual_id(generation: int, index: int) -> str:
    return f"g{generation:04d}-{index:03d}"
