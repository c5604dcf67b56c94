"""The checkpoint format: what one generation (or one batch) of a run saves, field by field.

The driver writes these records and the store and the UI read them; nothing else builds or
parses checkpoint dicts, so this module is the format's only description. Everything is plain
JSON (``runs/<run>/generations/gen_NNNN.json``).

Format 1, one file per generation ``g``::

    format, generation          1 and g
    individuals                 [IndividualRecord], the evaluated population of g (each with its
                                behaviour descriptors and look once they existed; older files
                                lack them)
    rng                         the random generators' states after evaluating g
    hall_of_fame                [{id, score, genome_id}], best distinct looks so far
    logbook                     [{gen, nevals, best, mean, std, min, errors, degenerate}]
    settings                    the evaluation settings (EvalSettings.to_dict())
    timing                      {seconds, evals_per_s} of evaluating g
    next                        None until selection ran, then a SelectionRecord: the parents of
                                g+1 and why, the votes used, the offspring and the RNG after them,
                                and (once a taste model took part) ``predictor``: which model
    archive                     quality-diversity runs only (absent in GA runs): an ArchiveRecord,
                                the MAP-Elites archive after batch g (evo.qd)

A quality-diversity run (``run.search = "qd"``) writes the same files, one per *batch* (g is the
batch number); its CVT centroids are in ``archive_centroids.json`` beside the checkpoints.

Fields are added with defaults and without a new format number while the meaning of the
existing ones stays; a reader of format N reads every format up to N.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

CHECKPOINT_FORMAT = 1
FORMATS_READ = (1,)


class CheckpointError(ValueError):
    """A checkpoint that does not follow the format; the message names the file."""


@dataclass
class Result:
    """What evaluating one candidate gave (the worker's answer, and what a record keeps of it)."""

    score: float = 0.0
    stats: dict[str, float] = field(default_factory=dict)
    degenerate: str | None = None
    error: str | None = None
    warnings: list[str] = field(default_factory=list)
    cached_from: str | None = None  # another individual with the same genome that was rendered instead
    seconds: float = 0.0
    cpu_seconds: float = 0.0
    descriptors: dict[str, float] = field(default_factory=dict)  # evo.fitness.descriptors
    look: str = ""  # 32x32 grey thumbnail as hex (evo.fitness.descriptors.look_thumbnail)

    @classmethod
    def from_json(cls, d: dict) -> "Result":
        return cls(score=float(d.get("score", 0.0)), stats=dict(d.get("stats") or {}), degenerate=d.get("degenerate"),
                   error=d.get("error"), warnings=[str(w) for w in d.get("warnings") or []],
                   cached_from=d.get("cached_from"), seconds=float(d.get("seconds", 0.0) or 0.0),
                   cpu_seconds=float(d.get("cpu_seconds", 0.0) or 0.0), descriptors=dict(d.get("descriptors") or {}),
                   look=str(d.get("look") or ""))

    def to_json(self) -> dict:
        return {"score": self.score, "stats": self.stats, "degenerate": self.degenerate, "error": self.error,
                "warnings": self.warnings, "cached_from": self.cached_from, "seconds": self.seconds,
                "cpu_seconds": self.cpu_seconds, "descriptors": self.descriptors, "look": self.look}


@dataclass
class IndividualRecord:
    """One evaluated individual as saved (and as the UI reads it): the genome as JSON, not decoded."""

    id: str
    generation: int
    genome: dict
    genome_id: str | None
    parents: list[str]
    operator: str
    score: float | None = None
    stats: dict[str, float] = field(default_factory=dict)
    degenerate: str | None = None
    error: str | None = None
    warnings: list[str] = field(default_factory=list)
    cached_from: str | None = None
    seconds: float = 0.0
    cpu_seconds: float = 0.0
    combined: float | None = None  # machine + votes as the selection after this generation saw it
    descriptors: dict[str, float] = field(default_factory=dict)  # evo.fitness.descriptors; absent before they existed
    look: str = ""  # the 32x32 grey thumbnail (Result.look); absent before it existed
    shown: str = ""  # why pre-screening kept it ("promising", "uncertain"); absent without pre-screening
    predicted: float | None = None  # the genome model's P(liked) when pre-screening kept it

    @property
    def result(self) -> Result | None:
        if self.score is None:
            return None
        return Result(self.score, self.stats, self.degenerate, self.error, self.warnings, self.cached_from,
                      descriptors=self.descriptors, look=self.look)

    def to_json(self) -> dict:
        out = {"id": self.id, "generation": self.generation, "genome": self.genome, "genome_id": self.genome_id,
               "parents": list(self.parents), "operator": self.operator, "score": self.score, "stats": self.stats,
               "degenerate": self.degenerate, "error": self.error, "warnings": list(self.warnings),
               "cached_from": self.cached_from, "timing": {"seconds": self.seconds, "cpu_seconds": self.cpu_seconds}}
        if self.combined is not None:
            out["combined"] = self.combined
        if self.descriptors:
            out["descriptors"] = self.descriptors
        if self.look:
            out["look"] = self.look
        out.update(_prescreen_json(self.shown, self.predicted))
        return out

    @classmethod
    def from_json(cls, rec: Any) -> "IndividualRecord":
        timing = rec.get("timing") or {}
        return cls(
            id=str(rec["id"]), generation=int(rec["generation"]), genome=dict(rec["genome"]),
            genome_id=None if rec.get("genome_id") is None else str(rec["genome_id"]),
            parents=[str(p) for p in rec.get("parents", [])], operator=str(rec.get("operator", "")),
            score=None if rec.get("score") is None else float(rec["score"]), stats=dict(rec.get("stats") or {}),
            degenerate=rec.get("degenerate"), error=rec.get("error"),
            warnings=[str(w) for w in rec.get("warnings") or []], cached_from=rec.get("cached_from"),
            seconds=float(timing.get("seconds", 0.0) or 0.0), cpu_seconds=float(timing.get("cpu_seconds", 0.0) or 0.0),
            combined=None if rec.get("combined") is None else float(rec["combined"]),
            descriptors={str(k): float(v) for k, v in (rec.get("descriptors") or {}).items()},
            look=str(rec.get("look") or ""), **_prescreen_from(rec),
        )


@dataclass
class OffspringRecord:
    """A child chosen by selection and variation, not evaluated yet."""

    id: str
    generation: int
    genome: dict
    genome_id: str
    parents: list[str]
    operator: str
    shown: str = ""  # why pre-screening kept it: "promising" or "uncertain" (evo.predictor.taste)
    predicted: float | None = None  # the genome model's P(liked) then

    def to_json(self) -> dict:
        return {"id": self.id, "generation": self.generation, "genome": self.genome, "genome_id": self.genome_id,
                "parents": list(self.parents), "operator": self.operator, **_prescreen_json(self.shown, self.predicted)}

    @classmethod
    def from_json(cls, rec: Any) -> "OffspringRecord":
        return cls(str(rec["id"]), int(rec["generation"]), dict(rec["genome"]), str(rec["genome_id"]),
                   [str(p) for p in rec.get("parents", [])], str(rec.get("operator", "")), **_prescreen_from(rec))


def _prescreen_json(shown: str, predicted: float | None) -> dict:
    """The pre-screening fields of a record, only when pre-screening ran (older files lack them)."""
    return {} if not shown else {"shown": shown, "predicted": predicted}


def _prescreen_from(rec: Any) -> dict:
    p = rec.get("predicted")
    return {"shown": str(rec.get("shown") or ""), "predicted": None if p is None else float(p)}


@dataclass
class SelectionRecord:
    """The ``next`` of a checkpoint: who became a parent of the next generation and why, with the
    exact vote snapshot (tallies by genome and the last vote id) it used, so selection can be
    replayed from the vote log."""

    parents: list[dict]  # {id, reason, combined, machine, generation, reentered}
    excluded: list[dict]  # {id, reason}
    votes_used: dict[str, dict]  # individual id -> {likes, dislikes, best, score}
    vote_cutoff: int
    votes_by_genome: dict[str, list[int]]  # genome id -> [likes, dislikes, best]
    offspring: list[OffspringRecord]
    rng: dict
    # The taste model this selection used (evo.predictor.taste.TasteUse.to_json: the sha256 of the
    # look and genome models, whose copies are in runs/<id>/models/, their weights and votes);
    # None when no model took part (and absent from the file, as in runs made before it existed).
    predictor: dict | None = None

    def to_json(self) -> dict:
        out = {"parents": self.parents, "excluded": self.excluded, "votes_used": self.votes_used,
               "votes": {"cutoff": self.vote_cutoff, "by_genome": self.votes_by_genome},
               "offspring": [o.to_json() for o in self.offspring], "rng": self.rng}
        if self.predictor is not None:
            out["predictor"] = self.predictor
        return out

    @classmethod
    def from_json(cls, d: Any) -> "SelectionRecord":
        votes = d.get("votes") or {}
        return cls(parents=[dict(p) for p in d.get("parents", [])], excluded=[dict(e) for e in d.get("excluded", [])],
                   votes_used=dict(d.get("votes_used") or {}), vote_cutoff=int(votes.get("cutoff", 0)),
                   votes_by_genome=dict(votes.get("by_genome") or {}),
                   offspring=[OffspringRecord.from_json(o) for o in d.get("offspring", [])], rng=dict(d["rng"]),
                   predictor=None if not d.get("predictor") else dict(d["predictor"]))


@dataclass
class ArchiveElite:
    """One filled cell of a quality-diversity archive: the individual that holds it."""

    cell: int  # index of its CVT centroid
    id: str  # the individual (its genome, preset and previews are in the run)
    genome_id: str
    objective: float  # what the cell compares: machine score + votes (evo.selection.VoteRule.combined)
    machine: float  # the machine score alone
    measures: list[float]  # its descriptors, in ArchiveRecord.measures order
    batch: int  # the batch in which this individual was evaluated

    def to_json(self) -> dict:
        return {"cell": self.cell, "id": self.id, "genome_id": self.genome_id, "objective": self.objective,
                "machine": self.machine, "measures": list(self.measures), "batch": self.batch}

    @classmethod
    def from_json(cls, d: Any) -> "ArchiveElite":
        return cls(int(d["cell"]), str(d["id"]), str(d["genome_id"]), float(d["objective"]), float(d["machine"]),
                   [float(v) for v in d["measures"]], int(d["batch"]))


@dataclass
class ArchiveRecord:
    """A MAP-Elites archive as it stood after one batch (``Checkpoint.archive``). The archive is
    a function of every individual evaluated so far and the votes (``vote_cutoff``, the last vote
    id read), so this is a record of it, not the state resume needs; the centroids are in the
    run's ``archive_centroids.json``."""

    measures: list[str]  # descriptor names, one per measure axis
    cells: int
    elites: list[ArchiveElite]  # by cell
    coverage: float  # filled cells / cells
    qd_score: float  # sum of the elites' objectives
    best: float  # the largest objective
    vote_cutoff: int = 0

    def to_json(self) -> dict:
        return {"measures": list(self.measures), "cells": self.cells, "elites": [e.to_json() for e in self.elites],
                "coverage": self.coverage, "qd_score": self.qd_score, "best": self.best,
                "vote_cutoff": self.vote_cutoff}

    @classmethod
    def from_json(cls, d: Any) -> "ArchiveRecord":
        return cls([str(m) for m in d["measures"]], int(d["cells"]), [ArchiveElite.from_json(e) for e in d["elites"]],
                   float(d["coverage"]), float(d["qd_score"]), float(d["best"]), int(d.get("vote_cutoff", 0)))


@dataclass
class Checkpoint:
    generation: int
    individuals: list[IndividualRecord]
    rng: dict
    hall_of_fame: list[dict] = field(default_factory=list)  # {id, score, genome_id}
    logbook: list[dict] = field(default_factory=list)
    settings: dict = field(default_factory=dict)
    timing: dict = field(default_factory=dict)
    next: SelectionRecord | None = None
    format: int = CHECKPOINT_FORMAT
    archive: ArchiveRecord | None = None  # quality-diversity runs only

    def to_json(self) -> dict:
        out = {"format": self.format, "generation": self.generation,
               "individuals": [r.to_json() for r in self.individuals], "rng": self.rng,
               "hall_of_fame": self.hall_of_fame, "logbook": self.logbook, "settings": self.settings,
               "timing": self.timing, "next": None if self.next is None else self.next.to_json()}
        if self.archive is not None:
            out["archive"] = self.archive.to_json()
        return out

    @classmethod
    def from_json(cls, data: Any, path: str | Path = "<checkpoint>") -> "Checkpoint":
        """Read any format in FORMATS_READ; anything malformed raises CheckpointError naming ``path``."""
        if not isinstance(data, dict) or not isinstance(data.get("individuals"), list):
            raise CheckpointError(f"{path}: not a generation checkpoint (no 'individuals' list)")
        if data.get("format") not in FORMATS_READ:
            raise CheckpointError(f"{path}: unknown checkpoint format {data.get('format')!r}")
        try:
            return cls(
                generation=int(data["generation"]),
                individuals=[IndividualRecord.from_json(r) for r in data["individuals"]],
                rng=dict(data["rng"]),
                hall_of_fame=[dict(h) for h in data.get("hall_of_fame") or []],
                logbook=[dict(r) for r in data.get("logbook") or []],
                settings=dict(data.get("settings") or {}),
                timing=dict(data.get("timing") or {}),
                next=None if not data.get("next") else SelectionRecord.from_json(data["next"]),
                format=int(data["format"]),
                archive=None if not data.get("archive") else ArchiveRecord.from_json(data["archive"]),
            )
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise CheckpointError(f"{path}: malformed checkpoint ({type(exc).__name__}: {exc})") from exc

    def record(self, ind_id: str) -> IndividualRecord | None:
        for r in self.individuals:
            if r.id == ind_id:
                return r
        return None
