"""Run storage: one folder per run, JSON checkpoints, previews, and votes in SQLite.

The folder is the only interface between the engine (a CLI process that owns GL) and the UI
(a Streamlit process that must never import GL): the engine writes it, the UI reads it and adds
votes. Every JSON file is replaced atomically (temp file + ``os.replace``) so a reader or a
SIGKILL never sees half a file; votes live in SQLite in WAL mode so many UI threads and the
engine can use them at once. No pickle anywhere: a run folder is safe to open from anyone.

Layout (``runs/<run-id>/``)::

    config.json                    the RunConfig as a dict (+ run id, created)
    state.json                     {"status", "generation", "updated", "pid", ...}
    generations/gen_0003.json      checkpoint: individuals, RNG states, hall of fame, logbook,
                                   and ("next") the parents chosen for generation 4 and why
    individuals/<ind-id>/          preset.milk, preview.webp, still.png
    votes.sqlite                   votes(id, ind_id, generation, voter, value, best, time);
                                   selection reads them by genome (genome_votes), the
                                   interactive wait by distinct voter and individual (vote_count)
    hall_of_fame.png               contact sheet written when a run finishes
    export/                        exported .milk files
"""

from __future__ import annotations

import json
import math
import os
import re
import shutil
import sqlite3
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

STATUSES = ("running", "stopped", "finished", "waiting_votes")
CHECKPOINT_FORMAT = 1
BEST_WEIGHT = 2.0  # a "best of generation" vote counts as much as two likes in VoteSummary.score
_GEN_RE = re.compile(r"^gen_(\d{4,})\.json$")
_SAFE_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$")


class StoreError(Exception):
    """A run folder that cannot be used; the message names the file."""


@dataclass
class VoteSummary:
    likes: int = 0
    dislikes: int = 0
    best: int = 0
    score: float = 0.0


@dataclass
class Vote:
    id: int
    ind_id: str
    generation: int
    voter: str
    value: int
    best: bool
    time: float


@dataclass
class Individual:
    id: str
    generation: int
    genome: dict
    score: float
    stats: dict
    error: str | None
    parents: list[str]
    operator: str
    vote_summary: VoteSummary = field(default_factory=VoteSummary)
    degenerate: str | None = None
    combined: float | None = None
    genome_id: str | None = None


@dataclass
class RunSummary:
    id: str
    status: str
    generation: int
    n_generations: int
    best_score: float | None
    created: str


def now_iso() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def atomic_write_bytes(path: Path, data: bytes) -> None:
    path = Path(path)
    tmp = path.with_name(f".{path.name}.tmp{os.getpid()}.{threading.get_ident()}")
    with open(tmp, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


def atomic_write_json(path: Path, obj: Any) -> None:
    atomic_write_bytes(path, json.dumps(_json_safe(obj), indent=1, sort_keys=True, allow_nan=False).encode())


def _json_safe(obj: Any) -> Any:
    """NaN/inf become None so every file is strict JSON (browsers and other tools read it)."""
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if isinstance(obj, dict):
        return {str(k): _json_safe(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_json_safe(v) for v in obj]
    if hasattr(obj, "item") and callable(obj.item):  # numpy scalars
        return _json_safe(obj.item())
    return obj


def read_json(path: Path) -> Any:
    try:
        text = Path(path).read_bytes()
    except FileNotFoundError as exc:
        raise StoreError(f"{path}: missing") from exc
    except OSError as exc:
        raise StoreError(f"{path}: cannot read: {exc.strerror or exc}") from exc
    try:
        return json.loads(text)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise StoreError(f"{path}: corrupt JSON: {exc}") from exc


def _pid_alive(pid: Any) -> bool:
    if not isinstance(pid, int) or pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class RunStore:
    def __init__(self, root: str | os.PathLike = "runs"):
        self.root = Path(root)

    def run_dir(self, run_id: str) -> Path:
        if not _SAFE_ID.match(run_id or ""):
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
                out.append(
                    RunSummary(
                        id=d.name,
                        status=run.status,
                        generation=gens[-1] if gens else -1,
                        n_generations=int(run.config.get("run", {}).get("generations", 0)),
                        best_score=best,
                        created=str(run.config.get("created", "")),
                    )
                )
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


class Run:
    def __init__(self, store: RunStore, run_id: str):
        self.store = store
        self.id = run_id
        self.dir = store.run_dir(run_id)
        self.config: dict = read_json(self.dir / "config.json")
        if not isinstance(self.config, dict):
            raise StoreError(f"{self.dir / 'config.json'}: not a JSON object")
        self._local = threading.local()
        self._cache: dict[int, tuple[tuple, dict]] = {}
        self._index: dict[str, int] | None = None
        self._genome_index: dict[str, str] = {}

    # ---- state and checkpoints

    @property
    def state(self) -> dict:
        path = self.dir / "state.json"
        if not path.exists():
            return {"status": "stopped", "generation": -1}
        data = read_json(path)
        if not isinstance(data, dict) or data.get("status") not in STATUSES:
            raise StoreError(f"{path}: not a run state (status must be one of {STATUSES})")
        return data

    @property
    def status(self) -> str:
        """'running' only while the engine process lives; a killed engine reads 'stopped'."""
        st = self.state
        status = st["status"]
        if status in ("running", "waiting_votes") and not _pid_alive(st.get("pid")):
            return "stopped"
        return status

    def write_state(self, status: str, generation: int, **extra: Any) -> None:
        if status not in STATUSES:
            raise ValueError(f"status must be one of {STATUSES}")
        data = {"status": status, "generation": generation, "updated": now_iso(), "pid": os.getpid(), **extra}
        atomic_write_json(self.dir / "state.json", data)

    def checkpoint_path(self, g: int) -> Path:
        return self.dir / "generations" / f"gen_{g:04d}.json"

    def generations(self) -> list[int]:
        d = self.dir / "generations"
        if not d.is_dir():
            return []
        return sorted(int(m.group(1)) for p in d.iterdir() if (m := _GEN_RE.match(p.name)))

    def write_checkpoint(self, g: int, data: dict) -> None:
        atomic_write_json(self.checkpoint_path(g), {**data, "format": CHECKPOINT_FORMAT, "generation": g})
        self._index = None

    def read_checkpoint(self, g: int) -> dict:
        path = self.checkpoint_path(g)
        try:
            st = path.stat()
        except FileNotFoundError as exc:
            raise StoreError(f"{path}: missing (generation {g} not in run {self.id})") from exc
        key = (st.st_mtime_ns, st.st_size)
        hit = self._cache.get(g)
        if hit and hit[0] == key:
            return hit[1]
        data = read_json(path)
        if not isinstance(data, dict) or not isinstance(data.get("individuals"), list):
            raise StoreError(f"{path}: not a generation checkpoint (no 'individuals' list)")
        if data.get("format") != CHECKPOINT_FORMAT:
            raise StoreError(f"{path}: unknown checkpoint format {data.get('format')!r}")
        self._cache[g] = (key, data)
        return data

    # ---- individuals

    def load_generation(self, g: int) -> list[Individual]:
        data = self.read_checkpoint(g)
        summary = self.vote_summary(g)
        path = self.checkpoint_path(g)
        return [_individual(rec, path, summary) for rec in data["individuals"]]

    def _ind_index(self) -> dict[str, int]:
        if self._index is None:
            index, genomes = {}, {}
            for g in self.generations():
                for rec in self.read_checkpoint(g)["individuals"]:
                    index[rec.get("id")] = g
                    if rec.get("genome_id"):
                        genomes[rec.get("id")] = str(rec["genome_id"])
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
        for ind in self.load_generation(g):
            if ind.id == ind_id:
                return ind
        raise StoreError(f"{self.checkpoint_path(g)}: no individual {ind_id!r}")

    def individual_dir(self, ind_id: str) -> Path:
        if not _SAFE_ID.match(ind_id or ""):
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
        ids = [h["id"] for h in self.read_checkpoint(gens[-1]).get("hall_of_fame", [])]
        return [self.individual(i) for i in ids]

    def logbook(self) -> list[dict]:
        gens = self.generations()
        return list(self.read_checkpoint(gens[-1]).get("logbook", [])) if gens else []

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
        nxt = self.read_checkpoint(g).get("next") or {}
        return [dict(p) for p in nxt.get("parents", [])]

    def export(self, ind_ids: list[str], out_dir: str | os.PathLike | None = None) -> list[Path]:
        out = Path(out_dir) if out_dir is not None else self.dir / "export"
        out.mkdir(parents=True, exist_ok=True)
        paths = []
        for rank, ind_id in enumerate(ind_ids, start=1):
            src = self.preset_path(ind_id)
            if not src.is_file():
                raise StoreError(f"{src}: missing (individual {ind_id} has no preset)")
            dst = out / f"{self.id}_{rank:02d}_{ind_id}.milk"
            tmp = dst.with_name(f".{dst.name}.tmp{os.getpid()}")
            shutil.copyfile(src, tmp)
            os.replace(tmp, dst)
            paths.append(dst)
        return paths

    # ---- votes

    def _db(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            path = self.dir / "votes.sqlite"
            try:
                conn = sqlite3.connect(path, timeout=30.0, isolation_level=None)
                conn.execute("PRAGMA busy_timeout=30000")
                conn.execute("PRAGMA journal_mode=WAL")
                conn.execute("PRAGMA synchronous=NORMAL")
                conn.execute(
                    "CREATE TABLE IF NOT EXISTS votes (id INTEGER PRIMARY KEY, ind_id TEXT NOT NULL,"
                    " generation INT NOT NULL, voter TEXT NOT NULL, value INT NOT NULL, best INT NOT NULL,"
                    " time REAL NOT NULL)"
                )
                conn.execute("CREATE INDEX IF NOT EXISTS votes_gen ON votes(generation)")
            except sqlite3.DatabaseError as exc:
                raise StoreError(f"{path}: cannot open votes database: {exc}") from exc
            self._local.conn = conn
        return conn

    def add_vote(self, ind_id: str, voter: str, value: int, best: bool = False) -> None:
        if value not in (-1, 0, 1):
            raise ValueError(f"vote value must be +1, -1 or 0, got {value!r}")
        g = self.generation_of(ind_id)
        conn = self._db()
        try:
            conn.execute(
                "INSERT INTO votes (ind_id, generation, voter, value, best, time) VALUES (?, ?, ?, ?, ?, ?)",
                (ind_id, g, str(voter), int(value), int(bool(best)), time.time()),
            )
        except sqlite3.DatabaseError as exc:
            raise StoreError(f"{self.dir / 'votes.sqlite'}: cannot store vote: {exc}") from exc

    def votes(self, generation: int | None = None) -> list[Vote]:
        if not (self.dir / "votes.sqlite").exists():
            return []
        sql = "SELECT id, ind_id, generation, voter, value, best, time FROM votes"
        args: tuple = ()
        if generation is not None:
            sql += " WHERE generation = ?"
            args = (int(generation),)
        try:
            rows = self._db().execute(sql + " ORDER BY id", args).fetchall()
        except sqlite3.DatabaseError as exc:
            raise StoreError(f"{self.dir / 'votes.sqlite'}: cannot read votes: {exc}") from exc
        return [Vote(r[0], r[1], r[2], r[3], r[4], bool(r[5]), r[6]) for r in rows]

    def vote_summary(self, generation: int) -> dict[str, VoteSummary]:
        """Each voter's latest vote on an individual counts once (voters may change their mind)."""
        latest: dict[tuple[str, str], Vote] = {}
        for v in self.votes(generation):
            latest[(v.ind_id, v.voter)] = v
        out: dict[str, VoteSummary] = {}
        for v in latest.values():
            s = out.setdefault(v.ind_id, VoteSummary())
            s.likes += v.value > 0
            s.dislikes += v.value < 0
            s.best += bool(v.best)
        for s in out.values():
            s.score = float(s.likes - s.dislikes + BEST_WEIGHT * s.best)
        return out

    def vote_count(self, generation: int) -> int:
        """Distinct (voter, individual) pairs with a live latest vote on ``generation``: what the
        interactive wait counts, so one person changing their mind four times is one vote."""
        latest: dict[tuple[str, str], Vote] = {}
        for v in self.votes(generation):
            latest[(v.ind_id, v.voter)] = v
        return sum(1 for v in latest.values() if v.value or v.best)

    def last_vote_id(self) -> int:
        votes = self._select_votes("SELECT MAX(id) FROM votes", ())
        return int(votes[0][0] or 0) if votes else 0

    def genome_votes(self, upto_id: int | None = None) -> tuple[dict[str, VoteSummary], int]:
        """Votes by genome over all generations, and the last vote id they include.

        Each voter's latest vote on a genome (any copy, any generation) counts once, so votes
        follow a look through elite copies and re-entries. ``upto_id`` replays the vote log as
        it stood at an earlier selection (ids grow in commit order, so "id <= cutoff" is exactly
        what a reader saw then).
        """
        sql = "SELECT id, ind_id, generation, voter, value, best, time FROM votes"
        args: tuple = ()
        if upto_id is not None:
            sql, args = sql + " WHERE id <= ?", (int(upto_id),)
        rows = self._select_votes(sql + " ORDER BY id", args)
        if any(r[1] not in self._ind_index() for r in rows):  # a generation written since: re-read once
            self._index = None
        genomes = (self._ind_index(), self._genome_index)[1]
        latest: dict[tuple[str, str], tuple] = {}
        cutoff = 0
        for r in rows:
            cutoff = max(cutoff, r[0])
            gid = genomes.get(r[1]) or r[1]  # an individual without a genome id votes on its own
            latest[(gid, r[3])] = r
        out: dict[str, VoteSummary] = {}
        for (gid, _), r in sorted(latest.items()):
            s = out.setdefault(gid, VoteSummary())
            s.likes += r[4] > 0
            s.dislikes += r[4] < 0
            s.best += bool(r[5])
        for s in out.values():
            s.score = float(s.likes - s.dislikes + BEST_WEIGHT * s.best)
        return {g: s for g, s in out.items() if s.likes or s.dislikes or s.best}, (cutoff if upto_id is None else int(upto_id))

    def _select_votes(self, sql: str, args: tuple) -> list[tuple]:
        if not (self.dir / "votes.sqlite").exists():
            return []
        try:
            return self._db().execute(sql, args).fetchall()
        except sqlite3.DatabaseError as exc:
            raise StoreError(f"{self.dir / 'votes.sqlite'}: cannot read votes: {exc}") from exc

    def close(self) -> None:
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
            self._local.conn = None


def _individual(rec: Any, path: Path, summary: dict[str, VoteSummary]) -> Individual:
    try:
        return Individual(
            id=str(rec["id"]),
            generation=int(rec["generation"]),
            genome=dict(rec["genome"]),
            score=None if rec.get("score") is None else float(rec["score"]),
            stats=dict(rec.get("stats") or {}),
            error=rec.get("error"),
            parents=[str(p) for p in rec.get("parents", [])],
            operator=str(rec.get("operator", "")),
            vote_summary=summary.get(str(rec["id"]), VoteSummary()),
            degenerate=rec.get("degenerate"),
            combined=rec.get("combined"),
            genome_id=rec.get("genome_id"),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise StoreError(f"{path}: malformed individual record ({type(exc).__name__}: {exc})") from exc
