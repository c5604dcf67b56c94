"""Quality labels for a corpus dataset, and how far to trust them.

What makes a preset good is what people say, and a corpus carries little of that:
- ``fRating`` (0..5) where a file sets it away from 3: MilkDrop writes 3 for a preset nobody
  rated, so a 3 says nothing; the others are an author's or a user's rating;
- ratings kept beside a collection (``--ratings FILE``): CSV or JSON mapping a file name, path or
  content hash to a number on any scale (a generator's metadata export, a spreadsheet);
- votes cast in liandan runs on corpus presets used as seeds (their like-rate under the run's
  vote rule), and the runs' machine scores of them (machine, not people: reported apart).

Each source is put on [0, 1] (fRating / 5; other scales min-max) and the quality of a preset is
the mean of the human sources it has. With too few human labels the analysis falls back to the
machine score of the dataset's own render, and says so.
"""

from __future__ import annotations

import csv
import io
import json
import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from evo.mining.dataset import finite_or_none

DEFAULT_RATING = 3.0
MIN_LABELS = 30
GOOD_QUANTILE = 0.75
KEY_COLUMNS = ("hash", "file", "filename", "name", "path", "preset", "rel_path")
VALUE_COLUMNS = ("rating", "score", "stars", "value", "quality", "votes")


class LabelError(ValueError):
    """A ratings file or runs folder that cannot be used; names the file (and line)."""


@dataclass
class LabelSource:
    name: str
    kind: str  # "human" | "machine"
    values: pd.Series  # on [0, 1], indexed like the dataset, NaN where the source says nothing
    raw: pd.Series  # the same on the source's own scale
    note: str = ""
    unmatched: int = 0  # entries of the source that name no preset of the dataset
    distinct: pd.Series | None = None  # True on one row per content (duplicates are the same preset)

    @property
    def count(self) -> int:
        """Distinct presets (contents) this source labels."""
        has = self.values.notna()
        return int((has & self.distinct).sum()) if self.distinct is not None else int(has.sum())

    def describe(self) -> dict:
        raw = self.raw.dropna()
        return {"name": self.name, "kind": self.kind, "presets": self.count, "files": int(self.values.notna().sum()),
                "unmatched": self.unmatched,
                "distinct_values": int(raw.nunique()), "min": finite_or_none(raw.min()), "max": finite_or_none(raw.max()),
                "mean": finite_or_none(raw.mean()), "note": self.note}


@dataclass
class Labels:
    sources: list[LabelSource] = field(default_factory=list)
    quality: pd.Series | None = None  # [0, 1] per row, NaN unlabelled
    used: str = ""  # what ``quality`` is made of
    fallback: bool = False  # True: no human labels, quality is the machine score

    @property
    def good(self) -> pd.Series:
        """The good subset: labelled rows at or above the GOOD_QUANTILE of quality."""
        q = self.quality
        labelled = q.dropna()
        if labelled.empty:
            return pd.Series(False, index=q.index)
        cut = float(labelled.quantile(GOOD_QUANTILE))
        return q.ge(cut) & q.notna()

    def agreement(self) -> list[dict]:
        """Spearman correlation between every two sources on the presets both label."""
        out = []
        for i, a in enumerate(self.sources):
            for b in self.sources[i + 1:]:
                both = a.values.notna() & b.values.notna()
                n = int(both.sum())
                rho = _spearman(a.values[both], b.values[both]) if n >= 5 else None
                out.append({"a": a.name, "b": b.name, "overlap": n, "spearman": rho})
        return out


def _spearman(a: pd.Series, b: pd.Series) -> float | None:
    if a.nunique() < 2 or b.nunique() < 2:
        return None
    return finite_or_none(a.rank().corr(b.rank()))


def minmax(s: pd.Series) -> pd.Series:
    lo, hi = s.min(), s.max()
    if not np.isfinite(lo) or not np.isfinite(hi) or hi <= lo:
        return s.where(s.isna(), 0.5)
    return (s - lo) / (hi - lo)


# ---------------------------------------------------------------- the sources


def by_content(df: pd.DataFrame, values: pd.Series) -> pd.Series:
    """A label given to any file of a content holds for every file of it (the mean where copies
    were rated differently): byte-identical files are one preset."""
    if "hash" not in df or values.isna().all():
        return values
    keyed = df["hash"].notna()
    out = values.copy()
    out[keyed] = values[keyed].groupby(df.loc[keyed, "hash"]).transform("mean")
    return out


def _distinct(df: pd.DataFrame) -> pd.Series:
    ok = df["error"].isna() if "error" in df else pd.Series(True, index=df.index)
    return ok & df["duplicate_of"].isna() if "duplicate_of" in df else ok


def frating_source(df: pd.DataFrame) -> LabelSource:
    r = df["param_fRating"].where(df["set_fRating"].fillna(False).astype(bool) & (df["param_fRating"] != DEFAULT_RATING))
    n_three = int(((df["param_fRating"] == DEFAULT_RATING) & df["set_fRating"].fillna(False).astype(bool)).sum())
    note = (f"files that set fRating to something other than {DEFAULT_RATING:g} (MilkDrop's value for an unrated "
            f"preset; {n_three} files say {DEFAULT_RATING:g}); an author's or user's 0-5 rating")
    return LabelSource("fRating", "human", (r.clip(0, 5) / 5.0), r, note, distinct=_distinct(df))


def _match_index(df: pd.DataFrame) -> dict[str, list[int]]:
    """Lower-cased hash, file name, file stem, rel_path and path -> row positions."""
    out: dict[str, list[int]] = {}
    cols = [c for c in ("hash", "file", "rel_path", "path") if c in df]
    for pos, values in enumerate(zip(*(df[c].tolist() for c in cols))):
        keys = set()
        for v in values:
            if isinstance(v, str) and v:
                keys.add(v.lower())
                if v.lower().endswith(".milk"):
                    keys.add(v[:-5].lower())
        for k in keys:
            out.setdefault(k, []).append(pos)
    return out


def read_ratings(path: str | Path) -> list[tuple[str, float, int]]:
    """(key, rating, line) entries of a CSV or JSON ratings file; LabelError naming file and line
    for anything that is not a key and a number."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise LabelError(f"{path}: cannot read: {exc}") from exc
    if path.suffix.lower() == ".json" or text.lstrip()[:1] in ("{", "["):
        return _json_ratings(path, text)
    return _csv_ratings(path, text)


def _number(value, path: Path, line: int, key: str) -> float:
    try:
        x = float(value)
    except (TypeError, ValueError):
        raise LabelError(f"{path}:{line}: rating of {key!r} is not a number: {value!r}") from None
    if not math.isfinite(x):
        raise LabelError(f"{path}:{line}: rating of {key!r} is not finite")
    return x


def _json_ratings(path: Path, text: str) -> list[tuple[str, float, int]]:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise LabelError(f"{path}:{exc.lineno}: not valid JSON: {exc.msg}") from exc
    out = []
    if isinstance(data, dict):
        for k, v in data.items():
            if isinstance(v, dict):
                v = next((v[c] for c in VALUE_COLUMNS if c in v), None)
            out.append((str(k), _number(v, path, 0, str(k)), 0))
        return out
    if isinstance(data, list):
        for i, item in enumerate(data):
            if not isinstance(item, dict):
                raise LabelError(f"{path}: entry {i}: expected an object with a file/hash and a rating")
            key = next((item[c] for c in KEY_COLUMNS if c in item), None)
            val = next((item[c] for c in VALUE_COLUMNS if c in item), None)
            if key is None or val is None:
                raise LabelError(f"{path}: entry {i}: needs one of {KEY_COLUMNS} and one of {VALUE_COLUMNS}")
            out.append((str(key), _number(val, path, 0, str(key)), 0))
        return out
    raise LabelError(f"{path}: expected an object or a list")


def _csv_ratings(path: Path, text: str) -> list[tuple[str, float, int]]:
    try:
        dialect = csv.Sniffer().sniff(text[:4096], delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    rows = list(csv.reader(io.StringIO(text), dialect))
    if not rows:
        return []
    header = [h.strip().lower() for h in rows[0]]
    key_col = next((header.index(c) for c in KEY_COLUMNS if c in header), None)
    val_col = next((header.index(c) for c in VALUE_COLUMNS if c in header), None)
    start = 2
    if key_col is None or val_col is None:  # no header: key, rating
        key_col, val_col, start = 0, 1, 1
        body = rows
    else:
        body = rows[1:]
    out = []
    for line, row in enumerate(body, start):
        if not row or not "".join(row).strip():
            continue
        if len(row) <= max(key_col, val_col):
            raise LabelError(f"{path}:{line}: expected a file name and a rating, got {row!r}")
        out.append((row[key_col].strip(), _number(row[val_col].strip(), path, line, row[key_col].strip()), line))
    return out


def ratings_source(df: pd.DataFrame, path: str | Path) -> LabelSource:
    entries = read_ratings(path)
    index = _match_index(df)
    raw = pd.Series(np.nan, index=df.index)
    sums = np.zeros(len(df))
    counts = np.zeros(len(df))
    unmatched = 0
    for key, value, _line in entries:
        k = key.strip().lower()
        hits = index.get(k) or index.get(Path(k).name) or index.get(Path(k).name.removesuffix(".milk"))
        if not hits:
            unmatched += 1
            continue
        for pos in hits:
            sums[pos] += value
            counts[pos] += 1
    has = counts > 0
    raw.iloc[np.flatnonzero(has)] = sums[has] / counts[has]
    raw = by_content(df, raw)
    return LabelSource(f"ratings: {Path(path).name}", "human", minmax(raw), raw,
                       f"{len(entries)} entries, scale {raw.min():g}..{raw.max():g} mapped to 0..1" if has.any()
                       else f"{len(entries)} entries, none matched", unmatched, _distinct(df))


def runs_sources(df: pd.DataFrame, runs_dir: str | Path) -> list[LabelSource]:
    """Votes (people) and machine scores (the runs' fitness) of dataset presets that took part
    in runs: matched by the seed file's name or by the content hash of an individual's preset."""
    from evo.mining.static import content_hash
    from evo.store import RunStore, StoreError

    index = _match_index(df)
    votes = pd.Series(np.nan, index=df.index)
    scores = pd.Series(np.nan, index=df.index)
    store = RunStore(runs_dir)
    n_runs = 0
    for summary in store.list_runs():
        try:
            run = store.open(summary.id)
            by_genome, _ = run.genome_votes()
            rule = run.vote_rule()
            generations = run.generations()
        except (StoreError, OSError, ValueError):
            continue
        n_runs += 1
        for g in generations:
            try:
                individuals = run.load_generation(g)
            except (StoreError, OSError, ValueError):
                continue
            for rec in individuals:  # checkpoint records: the genome as JSON
                hits = _run_hits(run, rec, index, content_hash)
                if not hits:
                    continue
                v = by_genome.get(rec.genome_id or rec.id)
                for pos in hits:
                    if v is not None and rule.evidence(v) > 0:
                        votes.iloc[pos] = rule.rate(v)
                    if rec.score is not None and not rec.error:
                        old = scores.iloc[pos]
                        scores.iloc[pos] = max(rec.score, old) if np.isfinite(old) else rec.score
    note = f"{n_runs} runs in {runs_dir}"
    votes, scores = by_content(df, votes), by_content(df, scores)
    return [LabelSource("run votes", "human", votes, votes, f"Bayesian like-rate of voted seeds; {note}",
                        distinct=_distinct(df)),
            LabelSource("run scores", "machine", scores, scores, f"machine score of seeds in runs; {note}",
                        distinct=_distinct(df))]


def _run_hits(run, rec, index: dict, content_hash) -> list[int]:
    origin = (rec.genome or {}).get("origin") if isinstance(rec.genome, dict) else None
    source = origin.get("source") if isinstance(origin, dict) else None
    hits: list[int] = []
    if source:
        name = Path(str(source)).name.lower()
        hits = index.get(name) or index.get(name.removesuffix(".milk")) or []
    if not hits:
        try:
            hits = index.get(content_hash(run.preset_path(rec.id).read_bytes()).lower(), [])
        except OSError:
            hits = []
    return hits


# ---------------------------------------------------------------- all together


def collect_labels(df: pd.DataFrame, ratings: list[str | Path] | None = None,
                   runs_dir: str | Path | None = None) -> Labels:
    sources = [frating_source(df)]
    for path in ratings or []:
        sources.append(ratings_source(df, path))
    if runs_dir is not None:
        if not Path(runs_dir).is_dir():
            raise LabelError(f"{runs_dir}: no such runs folder")
        sources.extend(s for s in runs_sources(df, runs_dir) if s.count)
    human = [s for s in sources if s.kind == "human" and s.count]
    total = sum(s.count for s in human)
    if total >= MIN_LABELS:
        quality = pd.concat([s.values for s in human], axis=1).mean(axis=1, skipna=True)
        used = " + ".join(f"{s.name} ({s.count})" for s in human)
        return Labels(sources, quality, used, fallback=False)
    machine = df["render_score"].where(df["render_score"].notna() & df["duplicate_of"].isna()) \
        if "render_score" in df else pd.Series(np.nan, index=df.index)
    sources.append(LabelSource("machine score", "machine", machine, machine,
                               "the fitness score of the dataset's own render", distinct=_distinct(df)))
    return Labels(sources, machine, f"machine score (only {total} human labels; {MIN_LABELS} needed)", fallback=True)
