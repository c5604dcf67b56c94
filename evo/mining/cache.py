"""The mine's memory: rendered results by (group, content hash, key) in SQLite.

Each result is committed the moment it arrives, so a mine killed at any point (even SIGKILL)
loses at most the files being rendered at that moment, and the next run starts where it stopped.
SQLite in WAL mode because the dataset folder may sit on a disk where a half-written JSON file
is a real risk, and because a later reader (the Corpus page) may open it while a mine runs.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Iterable

_SCHEMA = """
CREATE TABLE IF NOT EXISTS results (
    grp TEXT NOT NULL,
    hash TEXT NOT NULL,
    key TEXT NOT NULL,
    record TEXT NOT NULL,
    PRIMARY KEY (grp, hash, key)
)
"""
_BATCH = 500  # hashes per IN (...) query: SQLite's default variable limit is far above it


class FeatureCache:
    def __init__(self, path: str | Path):
        self.path = Path(path)
        self.db = sqlite3.connect(self.path, timeout=30)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=NORMAL")
        self.db.execute(_SCHEMA)
        self.db.commit()

    def close(self) -> None:
        self.db.close()

    def __enter__(self) -> "FeatureCache":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def put(self, group: str, key: str, digest: str, record: dict) -> None:
        """Store one result and commit it (the unit a kill can lose)."""
        self.db.execute("INSERT OR REPLACE INTO results (grp, hash, key, record) VALUES (?, ?, ?, ?)",
                        (group, digest, key, json.dumps(record, separators=(",", ":"), allow_nan=False)))
        self.db.commit()

    def get_many(self, group: str, key: str, hashes: Iterable[str]) -> dict[str, dict]:
        """Cached records of ``hashes`` (those present) for one group and key."""
        wanted = list(dict.fromkeys(h for h in hashes if h))
        out: dict[str, dict] = {}
        for i in range(0, len(wanted), _BATCH):
            part = wanted[i:i + _BATCH]
            marks = ",".join("?" * len(part))
            rows = self.db.execute(f"SELECT hash, record FROM results WHERE grp = ? AND key = ? AND hash IN ({marks})",
                                   (group, key, *part))
            out.update((h, json.loads(r)) for h, r in rows)
        return out

    def count(self, group: str | None = None, key: str | None = None) -> int:
        sql, args = "SELECT COUNT(*) FROM results WHERE 1=1", []
        if group is not None:
            sql, args = sql + " AND grp = ?", args + [group]
        if key is not None:
            sql, args = sql + " AND key = ?", args + [key]
        return int(self.db.execute(sql, args).fetchone()[0])

    def prune(self, group: str, keep_key: str) -> int:
        """Drop a group's results made under other keys (an older renderer): keeps the file
        bounded by the corpus, not by its history. Returns how many were dropped."""
        n = self.db.execute("DELETE FROM results WHERE grp = ? AND key != ?", (group, keep_key)).rowcount
        self.db.commit()
        return int(n)
