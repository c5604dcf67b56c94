"""A run's votes: one SQLite table (WAL mode, so many UI threads and the engine share it), and
the counting rules every reader applies.

Each click is one row; nothing is ever updated or deleted, so the log can be replayed as it stood
at any earlier moment (``genome_votes(upto_id=...)``). A person's latest vote on an individual is
the one that counts, and a vote on any copy of a genome counts for the genome.
"""

from __future__ import annotations

import sqlite3
import time
from dataclasses import dataclass

from evo.run_folder import StoreError
from evo.selection import BEST_WEIGHT, VoteSummary


@dataclass
class Vote:
    id: int
    ind_id: str
    generation: int
    voter: str
    value: int
    best: bool
    time: float


class VoteLog:
    """Mixed into :class:`evo.store.Run` (which supplies ``dir``, ``_local``, ``generation_of``,
    ``_ind_index`` and ``_genome_index``)."""

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

    def cast_vote(self, ind_id: str, voter: str, value: int, best: bool = False) -> None:
        """A person's click, with the one-best-per-voter rule: "best of this batch" is one pick per
        voter and generation, so choosing a new best turns the voter's previous best there into a
        plain like."""
        if best:
            g = self.generation_of(ind_id)
            latest = {v.ind_id: v for v in self.votes(g) if v.voter == voter}
            for other, last in latest.items():
                if last.best and other != ind_id:
                    self.add_vote(other, voter, +1, best=False)
        self.add_vote(ind_id, voter, value, best=best)

    def add_vote(self, ind_id: str, voter: str, value: int, best: bool = False) -> None:
        """One row as given (no rule applied: :meth:`cast_vote` is what a person's click calls)."""
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

    def vote_count_since(self, vote_id: int) -> int:
        """Like :meth:`vote_count`, over the votes after ``vote_id`` on any generation: what an
        interactive quality-diversity run waits for (its Vote page shows elites of many batches)."""
        latest: dict[tuple[str, str], tuple] = {}
        for r in self._select_votes("SELECT ind_id, voter, value, best FROM votes WHERE id > ? ORDER BY id",
                                    (int(vote_id),)):
            latest[(r[0], r[1])] = r
        return sum(1 for r in latest.values() if r[2] or r[3])

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
