"""Run storage: one folder per run, JSON checkpoints, previews, and votes in SQLite.

The folder is the only interface between the driver (a CLI process that owns GL) and the UI
(a Streamlit process that must never import GL): the driver writes it, the UI reads it, adds
votes, and starts or stops runs through this API. Every JSON file is replaced atomically (temp
file + ``os.replace``) so a reader or a SIGKILL never sees half a file; votes live in SQLite in
WAL mode so many UI threads and the driver can use them at once. No pickle anywhere: a run folder
is safe to open from anyone.

Layout (``runs/<run-id>/``)::

    config.json                    the RunConfig as a dict (+ run id, created)
    state.json                     {"status", "generation", "updated", "pid", ...}
    run.lock                       held (flock) by the process driving the run: evo.run_folder
    generations/gen_0003.json      checkpoint (evo.checkpoint): individuals, RNG states, hall of
                                   fame, logbook, and ("next") the parents of generation 4 and why
    individuals/<ind-id>/          preset.milk, preview.webp, still.png
    votes.sqlite                   votes(id, ind_id, generation, voter, value, best, time): evo.vote_log
    hall_of_fame.png               contact sheet written when a run finishes
    archive_centroids.json         quality-diversity runs: the CVT centroids of the archive (evo.qd)
    export/                        exported .milk files

Beside the runs, ``runs/_scratch/<kind>/<name>/`` holds what the UI makes on the way (uploaded
seeds and music, bred children, previews of uploaded presets) and ``runs/_logs/`` the output of
runs started in the background.
"""

from __future__ import annotations

import os
import re
import threading
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from evo.checkpoint import ArchiveRecord, Checkpoint, CheckpointError, IndividualRecord
from evo.config import ConfigError, RunConfig
from evo.run_folder import (SAFE_ID, RunLock, StoreError, atomic_write_json, launch, lock_holder, now_iso,
                            read_json, stop)
from evo.selection import VoteRule, VoteSummary, rank_best, rank_distinct
from evo.vote_log import Vote, VoteLog
from renderer.output.files import atomic_copy

__all__ = ["Individual", "Run", "RunStore", "RunSummary", "StoreError", "Vote", "VoteSummary"]

STATUSES = ("running", "stopped", "finished", "waiting_votes")
_GEN_RE = re.compile(r"^gen_(\d{4,})\.json$")
_REPO = Path(__file__).resolve().parent.parent

Individual = IndividualRecord  # what the UI reads of one individual


@dataclass
class RunSummary:
    id: str
    status: str
    generation: int
    n_generations: int
    best_score: float | None
    created: str


class RunStore:
    def __init__(self, root: str | os.PathLike = "runs"):
        self.root = Path(root)

    def run_dir(self, run_id: str) -> Path:
        if not SAFE_ID.match(run_id or ""):
            raise StoreError(f"{self.root / str(run_id)}: not a valid run id {run_id!r}")
        return self.root / run_id

    def exists(self, run_id: str) -> bool:
        return (self.run_dir(run_id) / "config.json").is_file()

    def list_runs(self) -> list[RunSummary]:
        out = []
        if not self.root.is_dir():
            return out
        for d in sorted(self.root.iterdir()):
            if not (d / "config.json").is_file():
                continue
            try:
                run = Run(self, d.name)
                gens = run.generations()
                best = None
                if gens:
                    scores = [i.score for i in run.load_generation(gens[-1]) if i.score is not None]
                    best = max(scores) if scores else None
                out.append(RunSummary(id=d.name, status=run.status, generation=gens[-1] if gens else -1,
                                      n_generations=int(run.config.get("run", {}).get("generations", 0)),
                                      best_score=best, created=str(run.config.get("created", ""))))
            except StoreError as exc:
                out.append(RunSummary(d.name, f"corrupt: {exc}", -1, 0, None, ""))
        return out

    def open(self, run_id: str) -> "Run":
        d = self.run_dir(run_id)
        if not d.is_dir():
            raise StoreError(f"{d}: no such run")
        return Run(self, run_id)

    def create(self, run_id: str, config: dict) -> "Run":
        """A new run folder with its config; refuses to overwrite an existing run."""
        d = self.run_dir(run_id)
        if (d / "config.json").exists():
            raise StoreError(f"{d}: run already exists")
        (d / "generations").mkdir(parents=True, exist_ok=True)
        (d / "individuals").mkdir(exist_ok=True)
        atomic_write_json(d / "config.json", {**config, "id": run_id, "created": now_iso()})
        run = Run(self, run_id)
        run.write_state("running", -1)
        run._db()  # create votes.sqlite up front so readers never race its creation
        return run

    def new_run_id(self, name: str | None = None) -> str:
        if name:
            self.run_dir(name)
            return name
        base = datetime.now().strftime("run-%Y%m%d-%H%M%S")
        rid, k = base, 1
        while (self.root / rid).exists():
            k += 1
            rid = f"{base}-{k}"
        return rid

    def scratch(self, kind: str, name: str) -> Path:
        """A folder for what the UI makes on the way (``kind``: uploads, breed, preview, ...)."""
        for part in (kind, name):
            if not SAFE_ID.match(part or ""):
                raise StoreError(f"{self.root / '_scratch'}: not a valid name {part!r}")
        d = self.root / "_scratch" / kind / name
        d.mkdir(parents=True, exist_ok=True)
        return d

    def log_path(self, run_id: str, what: str) -> Path:
        self.run_dir(run_id)
        return self.root / "_logs" / f"{run_id}-{what}.log"


class Run(VoteLog):
    def __init__(self, store: RunStore, run_id: str):
        self.store = store
        self.id = run_id
        self.dir = store.run_dir(run_id)
        self.config: dict = read_json(self.dir / "config.json")
        if not isinstance(self.config, dict):
            raise StoreError(f"{self.dir / 'config.json'}: not a JSON object")
        self._local = threading.local()
        self._cache: dict[int, tuple[tuple, Checkpoint]] = {}
        self._index: dict[str, int] | None = None
        self._genome_index: dict[str, str] = {}

    def replace_config(self, config: dict) -> None:
        """Write the run's config anew (keeping its id and creation time): what a run learns of its
        inputs before it starts, such as a song's beats."""
        data = {**config, "id": self.id, "created": self.config.get("created", now_iso())}
        atomic_write_json(self.dir / "config.json", data)
        self.config = read_json(self.dir / "config.json")

    def run_config(self) -> RunConfig:
        """The run's configuration as the driver uses it."""
        data = {k: v for k, v in self.config.items() if k not in ("id", "created", "branch")}
        try:
            return RunConfig.from_dict(data, str(self.dir / "config.json"))
        except ConfigError as exc:
            raise StoreError(str(exc)) from exc

    def vote_rule(self) -> VoteRule:
        """The run's ``[votes]`` section as selection's formula; a malformed section gives the defaults."""
        votes = self.config.get("votes")
        try:
            return VoteRule.from_config(votes if isinstance(votes, dict) else {})
        except (TypeError, ValueError):
            return VoteRule()

    # ---- state, lock and processes

    @property
    def state(self) -> dict:
        """state.json. A missing one reads 'stopped' before generation 0; a damaged one reads
        'stopped' at the last checkpoint with ``problem`` saying what was wrong (the checkpoints are
        the run: state.json only caches where it stands, and resume rewrites it)."""
        path = self.dir / "state.json"
        if not path.exists():
            return {"status": "stopped", "generation": -1}
        try:
            data = read_json(path)
            if not isinstance(data, dict) or data.get("status") not in STATUSES:
                raise StoreError(f"{path}: not a run state (status must be one of {STATUSES})")
        except StoreError as exc:
            gens = self.generations()
            return {"status": "stopped", "generation": gens[-1] if gens else -1, "problem": str(exc)}
        return data

    @property
    def status(self) -> str:
        """'running' (or 'waiting_votes') only while a process holds the run's lock; a run whose
        process died reads 'stopped'."""
        status = self.state["status"]
        if status in ("running", "waiting_votes") and lock_holder(self.dir) is None:
            return "stopped"
        return status

    def write_state(self, status: str, generation: int, **extra: Any) -> None:
        if status not in STATUSES:
            raise ValueError(f"status must be one of {STATUSES}")
        data = {"status": status, "generation": generation, "updated": now_iso(), "pid": os.getpid(), **extra}
        atomic_write_json(self.dir / "state.json", data)

    def lock(self) -> RunLock:
        """The lock the driving process holds while it runs this run (``with run.lock(): ...``)."""
        return RunLock(self.dir)

    def stop(self) -> int:
        """SIGTERM to the process provably running this run; returns its PID."""
        return stop(self.dir)

    def launch(self, log_name: str = "resume") -> int:
        """Run (or continue) this run in a background process; returns its PID."""
        return launch(["evo.driver", self.id, "--runs-dir", str(self.store.root.resolve())],
                      self.store.log_path(self.id, log_name), cwd=_REPO)

    # ---- checkpoints

    def checkpoint_path(self, g: int) -> Path:
        return self.dir / "generations" / f"gen_{g:04d}.json"

    def generations(self) -> list[int]:
        d = self.dir / "generations"
        if not d.is_dir():
            return []
        return sorted(int(m.group(1)) for p in d.iterdir() if (m := _GEN_RE.match(p.name)))

    def write_checkpoint(self, ck: Checkpoint) -> None:
        atomic_write_json(self.checkpoint_path(ck.generation), ck.to_json())
        self._index = None

    def read_checkpoint(self, g: int) -> Checkpoint:
        path = self.checkpoint_path(g)
        try:
            st = path.stat()
        except FileNotFoundError as exc:
            raise StoreError(f"{path}: missing (generation {g} not in run {self.id})") from exc
        key = (st.st_mtime_ns, st.st_size)
        hit = self._cache.get(g)
        if hit and hit[0] == key:
            return hit[1]
        try:
            ck = Checkpoint.from_json(read_json(path), path)
        except CheckpointError as exc:
            raise StoreError(str(exc)) from exc
        self._cache[g] = (key, ck)
        return ck

    # ---- individuals

    def load_generation(self, g: int) -> list[Individual]:
        return list(self.read_checkpoint(g).individuals)

    def _ind_index(self) -> dict[str, int]:
        if self._index is None:
            index, genomes = {}, {}
            for g in self.generations():
                for rec in self.read_checkpoint(g).individuals:
                    index[rec.id] = g
                    if rec.genome_id:
                        genomes[rec.id] = rec.genome_id
            self._index, self._genome_index = index, genomes
        return self._index

    def genome_of(self, ind_id: str) -> str | None:
        """The individual's genome id (None for an unknown individual or a record without one)."""
        if ind_id not in self._ind_index():
            self._index = None
            self._ind_index()
        return self._genome_index.get(ind_id)

    def generation_of(self, ind_id: str) -> int:
        g = self._ind_index().get(ind_id)
        if g is None:
            self._index = None
            g = self._ind_index().get(ind_id)
        if g is None:
            raise StoreError(f"{self.dir}: no individual {ind_id!r} in run {self.id}")
        return g

    def individual(self, ind_id: str) -> Individual:
        g = self.generation_of(ind_id)
        rec = self.read_checkpoint(g).record(ind_id)
        if rec is None:
            raise StoreError(f"{self.checkpoint_path(g)}: no individual {ind_id!r}")
        return rec

    def individual_dir(self, ind_id: str) -> Path:
        if not SAFE_ID.match(ind_id or ""):
            raise StoreError(f"{self.dir}: not a valid individual id {ind_id!r}")
        return self.dir / "individuals" / ind_id

    def preset_path(self, ind_id: str) -> Path:
        return self.individual_dir(ind_id) / "preset.milk"

    def preview_path(self, ind_id: str) -> Path:
        return self.individual_dir(ind_id) / "preview.webp"

    def still_path(self, ind_id: str) -> Path:
        return self.individual_dir(ind_id) / "still.png"

    @property
    def contact_sheet_path(self) -> Path:
        return self.dir / "hall_of_fame.png"

    def hall_of_fame(self) -> list[Individual]:
        gens = self.generations()
        if not gens:
            return []
        return [self.individual(h["id"]) for h in self.read_checkpoint(gens[-1]).hall_of_fame]

    def logbook(self) -> list[dict]:
        gens = self.generations()
        return list(self.read_checkpoint(gens[-1]).logbook) if gens else []

    def lineage(self, ind_id: str, depth: int = 2) -> dict:
        ind = self.individual(ind_id)
        node = {"id": ind.id, "generation": ind.generation, "operator": ind.operator, "score": ind.score, "parents": []}
        if depth > 0:
            for pid in ind.parents:
                try:
                    node["parents"].append(self.lineage(pid, depth - 1))
                except StoreError:  # a parent from another run (branch) or a seed file
                    node["parents"].append({"id": pid, "operator": "external", "parents": []})
        return node

    def parents_of_next(self, g: int) -> list[dict]:
        nxt = self.read_checkpoint(g).next
        return [dict(p) for p in nxt.parents] if nxt is not None else []

    def best(self, k: int, upto: int | None = None, cutoff: int | None = None) -> list[str]:
        """The ``k`` best *most distinct* presets by the combined machine + vote score selection
        uses (votes by genome over the whole run; with the taste model the run's last selection
        recorded, its P(liked) too): the best first, then each next the best trade of score
        against looking like those before it (evo.niching.pick_distinct). Candidates are each
        genome's best individual over all generations (GA), or the archive's elites (quality
        diversity). ``upto`` and ``cutoff``: the run as it stood after that generation and vote."""
        from evo.predictor.use import recorded_taste, taste_rule

        votes, _ = self.genome_votes(upto_id=cutoff)
        gens = [g for g in self.generations() if upto is None or g <= upto]
        rule, predict = taste_rule(recorded_taste(self, gens), self.vote_rule())
        archive = self.archive(gens[-1]) if gens else None
        if archive is not None:
            candidates = [self.individual(e.id) for e in archive.elites]
        else:
            everyone = [ind for g in gens for ind in self.load_generation(g)]
            ranked = rank_best(everyone, votes, rule, len(everyone), predict)
            candidates = [self.individual(i) for i in ranked]
        return rank_distinct(candidates, votes, rule, k, self.look_rule().similarity, predict=predict)

    # ---- quality diversity

    @property
    def is_qd(self) -> bool:
        run = self.config.get("run")
        return isinstance(run, dict) and run.get("search") == "qd"

    def look_rule(self):
        """The run's "same look" rule (``[ga] hall_of_fame_distance / _ssim``)."""
        from evo.niching import LookRule

        ga = self.config.get("ga") if isinstance(self.config.get("ga"), dict) else {}
        default = LookRule()
        try:
            return LookRule(float(ga.get("hall_of_fame_distance", default.distance)),
                            float(ga.get("hall_of_fame_ssim", default.ssim)))
        except (TypeError, ValueError):
            return default

    @property
    def centroids_path(self) -> Path:
        return self.dir / "archive_centroids.json"

    def read_centroids(self) -> dict | None:
        return read_json(self.centroids_path) if self.centroids_path.is_file() else None

    def write_centroids(self, data: dict) -> None:
        atomic_write_json(self.centroids_path, data)

    def archive(self, g: int | None = None) -> ArchiveRecord | None:
        """The quality-diversity archive after batch ``g`` (default: the last); None for a GA run."""
        gens = self.generations()
        if not gens:
            return None
        return self.read_checkpoint(gens[-1] if g is None else g).archive

    def newest_elites(self, k: int) -> list[Individual]:
        """The ``k`` elites that entered the archive last (newest batch first, then by objective):
        what the Vote page of a quality-diversity run shows."""
        archive = self.archive()
        if archive is None:
            return []
        order = sorted(archive.elites, key=lambda e: (-e.batch, -e.objective, e.id))
        return [self.individual(e.id) for e in order[: max(0, k)]]

    def export(self, ind_ids: list[str], out_dir: str | os.PathLike | None = None) -> list[Path]:
        """Copy the individuals' presets, ranked, into ``out_dir`` (made only once every id is known)."""
        out = Path(out_dir) if out_dir is not None else self.dir / "export"
        sources = []
        for ind_id in ind_ids:
            src = self.preset_path(ind_id)
            if not src.is_file():
                raise StoreError(f"{src}: missing (individual {ind_id} has no preset)")
            sources.append(src)
        out.mkdir(parents=True, exist_ok=True)
        paths = []
        for rank, (ind_id, src) in enumerate(zip(ind_ids, sources), start=1):
            dst = out / f"{self.id}_{rank:02d}_{ind_id}.milk"
            atomic_copy(src, dst)
            paths.append(dst)
        return paths
