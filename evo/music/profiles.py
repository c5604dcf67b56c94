"""Reactivity profiles of many presets: measured in worker processes, cached by content.

Profiling a folder renders every preset for ten seconds; the second time it should cost
nothing. Profiles are kept in a small SQLite file keyed by the file's content hash and the
profile version, so a renamed or copied preset is not measured again and a change to the probe
redoes everything.
"""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
from pathlib import Path
from typing import Callable, Iterable

from evo.music.reactivity import PROBE_SECONDS, PROBE_SIZE, PROFILE_VERSION, ReactivityProfile

DEFAULT_CACHE = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "liandan" / "profiles.sqlite"


def content_hash(path: str | os.PathLike) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()[:32]


class ProfileCache:
    def __init__(self, path: str | os.PathLike = DEFAULT_CACHE):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.conn = sqlite3.connect(self.path, timeout=30.0, isolation_level=None)
        self.conn.execute("PRAGMA journal_mode=WAL")
        self.conn.execute("CREATE TABLE IF NOT EXISTS profiles (hash TEXT NOT NULL, version INT NOT NULL, "
                          "profile TEXT, error TEXT, PRIMARY KEY (hash, version))")

    def get(self, digest: str) -> tuple[ReactivityProfile | None, str | None] | None:
        row = self.conn.execute("SELECT profile, error FROM profiles WHERE hash = ? AND version = ?",
                                (digest, PROFILE_VERSION)).fetchone()
        if row is None:
            return None
        return (ReactivityProfile.from_json(json.loads(row[0])) if row[0] else None), row[1]

    def put(self, digest: str, profile: ReactivityProfile | None, error: str | None = None) -> None:
        self.conn.execute("INSERT OR REPLACE INTO profiles VALUES (?, ?, ?, ?)",
                          (digest, PROFILE_VERSION, json.dumps(profile.to_json()) if profile else None, error))

    def close(self) -> None:
        self.conn.close()


def profile_job(path: str, config, cache: dict) -> dict:
    """One preset's profile in a sweep worker (renderer.output.sweep's ``job`` interface)."""
    from renderer.audio import AudioAnalyzer
    from renderer.milk.preset import load_milk

    from evo.music.reactivity import PROBE_FPS, measure_preset, probe_track

    if "renderer" not in cache:
        from renderer import Renderer

        cache["renderer"] = Renderer(width=PROBE_SIZE, height=PROBE_SIZE, fps=PROBE_FPS, seed=0)
        cache["profile_audio"] = AudioAnalyzer(probe_track(PROBE_SECONDS), fps=PROBE_FPS)
    try:
        profile = measure_preset(cache["renderer"], load_milk(path), PROBE_SECONDS,
                                 analyzer=cache["profile_audio"])
    except Exception as exc:  # noqa: BLE001 - the preset's fault: its record says so
        cache.pop("renderer").release()
        return {"file": path, "status": "error", "error": f"{type(exc).__name__}: {exc}"[:500]}
    return {"file": path, "status": "rendered", "error": None, "profile": profile.to_json()}


def profile_presets(paths: Iterable[str | os.PathLike], cache: ProfileCache, workers: int = 2,
                    on_done: Callable[[str], None] | None = None) -> dict[str, tuple[ReactivityProfile | None, str | None]]:
    """``{path: (profile or None, error or None)}`` for every path: cached ones at once, the rest
    rendered by ``workers`` processes (a preset that crashes or hangs its worker is an error)."""
    from renderer.output.sweep import render_sweep

    out: dict[str, tuple[ReactivityProfile | None, str | None]] = {}
    digests, todo = {}, []
    for p in map(str, paths):
        try:
            digests[p] = content_hash(p)
        except OSError as exc:
            out[p] = (None, f"cannot read: {exc.strerror or exc}")
            continue
        hit = cache.get(digests[p])
        if hit is not None:
            out[p] = hit
            if on_done:
                on_done(p)
        else:
            todo.append(p)
    for res in render_sweep(todo, frames=1, workers=workers, job=profile_job, timeout_s=120):
        p = res["file"]
        profile = ReactivityProfile.from_json(res["profile"]) if res.get("profile") else None
        out[p] = (profile, res.get("error"))
        cache.put(digests[p], profile, res.get("error"))
        if on_done:
            on_done(p)
    return out


def candidates_from_folder(folder, cache: ProfileCache, workers: int = 2, limit: int | None = None,
                           on_done: Callable[[str], None] | None = None):
    """Every preset under ``folder`` (at most ``limit``, the first by path) with its profile, as
    match candidates; presets that fail to render are left out and returned as errors."""
    from renderer.milk.files import find_presets

    from evo.music.match import Candidate

    paths = find_presets(folder)[: limit or None]
    profiles = profile_presets(paths, cache, workers, on_done)
    good = [Candidate(Path(p).stem, str(p), prof) for p, (prof, err) in profiles.items() if prof is not None]
    bad = {p: err for p, (prof, err) in profiles.items() if prof is None}
    return good, bad
