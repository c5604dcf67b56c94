"""From music to preset parameters: a small model that says what a preset for this music looks
like, and presets made from what it says.

Training pairs are (music features, preset parameters, weight):

- from runs evolved with ``--audio SONG``: the features of the stretch of the song the run was
  judged on (its ``song.json``) and the parameters of the run's best distinct individuals,
  weighted by their combined machine + vote score;
- from matching: for each section of each song the best-matching presets' parameters, weighted
  by their fit (``pairs_from_matches``), which is how the model starts before any run exists.

The model is a scikit-learn regressor on standardised inputs and on parameters scaled to their
typical ranges: a ridge regression or a one-hidden-layer MLP, whichever predicts held-out songs
better in grouped cross-validation. It is saved as JSON (its weights and scalers) and predicts
with numpy alone, so loading a model file can run no code. Its error is reported against the
baseline every model must beat: the mean preset.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from renderer.milk.params import SCHEMA

MUSIC_INPUTS = ("tempo", "energy", "brightness", "beat_strength", "energy_range")
TARGET_PARAMS = ("zoom", "rot", "warp", "fDecay", "fWarpAnimSpeed", "fWarpScale", "fZoomExponent", "fWaveScale",
                 "fWaveAlpha", "wave_r", "wave_g", "wave_b", "fVideoEchoAlpha", "fVideoEchoZoom", "fGammaAdj",
                 "dx", "dy", "sx", "sy", "ob_size", "ib_size", "mv_a")
MODEL_FORMAT = 1


class ModelError(ValueError):
    """A model file that is not one of ours (or was changed); names the file."""


def _scale(name: str) -> tuple[float, float]:
    lo, hi = SCHEMA[name].typical
    return float(lo), float(hi - lo) or 1.0


def params_vector(params: dict) -> np.ndarray:
    """A preset's target parameters on their typical ranges (0..1 inside the range), clipped to
    half a range beyond it: a few corpus presets use slider extremes (zoom 100) that would
    otherwise outweigh everything a model learns."""
    out = []
    for name in TARGET_PARAMS:
        lo, width = _scale(name)
        out.append((float(params.get(name, SCHEMA[name].default)) - lo) / width)
    return np.clip(np.nan_to_num(np.asarray(out), nan=0.5), -0.5, 1.5)


def params_from_vector(v: np.ndarray) -> dict[str, float]:
    out = {}
    for name, x in zip(TARGET_PARAMS, v):
        lo, width = _scale(name)
        spec = SCHEMA[name]
        out[name] = float(spec.clamp(round(lo + float(x) * width, 4)))
    return out


def music_vector(features: dict) -> np.ndarray:
    return np.asarray([float(features.get(k, 0.0)) for k in MUSIC_INPUTS])


def section_music(song, section) -> dict[str, float]:
    """The model's inputs for one section of a song."""
    energies = [s.energy for s in song.sections] or [1.0]
    return {"tempo": float(song.tempo), "energy": float(section.energy), "brightness": float(section.brightness),
            "beat_strength": float(section.beat_strength), "energy_range": float(max(energies) - min(energies))}


@dataclass
class Pairs:
    X: list = field(default_factory=list)
    Y: list = field(default_factory=list)
    w: list = field(default_factory=list)
    groups: list = field(default_factory=list)  # the song each pair comes from (held out together)

    def add(self, music: dict, params: dict, weight: float, group: str) -> None:
        self.X.append(music_vector(music))
        self.Y.append(params_vector(params))
        self.w.append(float(weight))
        self.groups.append(group)

    def arrays(self):
        return np.asarray(self.X), np.asarray(self.Y), np.asarray(self.w), np.asarray(self.groups)


def pairs_from_matches(songs: list, candidates: list, params_of, top: int = 3, pairs: Pairs | None = None) -> Pairs:
    """For each section of each analysed song, its ``top`` matches' parameters (``params_of(path)``
    gives a preset's parameters), weighted by fit."""
    from evo.music.match import rank_section

    pairs = pairs or Pairs()
    for song in songs:
        for s in song.sections:
            for f in rank_section(s, candidates)[:top]:
                pairs.add(section_music(song, s), params_of(f.candidate.path), f.score, song.source)
    return pairs


def pairs_from_runs(runs_dir, top: int = 5, pairs: Pairs | None = None) -> Pairs:
    """Runs evolved for a song: the judged stretch's features -> the best individuals' parameters."""
    from evo.genome import Genome
    from evo.music.song_fitness import read_song_record
    from evo.store import RunStore, StoreError

    pairs = pairs or Pairs()
    store = RunStore(runs_dir)
    for summary in store.list_runs():
        try:
            run = store.open(summary.id)
        except StoreError:
            continue
        record = read_song_record(run.dir)
        if record is None:
            continue
        start = float(run.config.get("fitness", {}).get("audio_start", 0.0))
        section = next((s for s in record["sections"] if s["start"] <= start < s["end"]), record["sections"][0])
        music = {"tempo": record["tempo"], "energy": section["energy"], "brightness": section.get("brightness", 0.0),
                 "beat_strength": section.get("beat_strength", 1.0),
                 "energy_range": record["features"].get("energy_range", 0.0)}
        for ind_id in run.best(top):
            ind = run.individual(ind_id)
            pairs.add(music, Genome.from_json(ind.genome).params, max(ind.score or 0.0, 0.01), record["source"])
    return pairs


class MusicToParams:
    """fit(X, Y, sample_weight, groups) / predict(X): scikit-learn style, JSON on disk."""

    def __init__(self, kind: str = "auto", seed: int = 0):
        self.kind = kind
        self.seed = seed

    def _candidates(self):
        from sklearn.linear_model import Ridge
        from sklearn.neural_network import MLPRegressor

        return {"ridge": lambda: Ridge(alpha=1.0),
                "mlp": lambda: MLPRegressor(hidden_layer_sizes=(16,), alpha=1e-2, max_iter=2000, random_state=self.seed)}

    def cross_validate(self, X, Y, w, groups) -> dict[str, float]:
        """Weighted RMSE on held-out songs (leave one song out) for each model kind and the mean preset."""
        errors: dict[str, list] = {"mean preset": [], "ridge": [], "mlp": []}
        songs = sorted(set(groups))
        for g in songs:
            test, train = groups == g, groups != g
            if train.sum() < 3 or test.sum() == 0:
                continue
            xm, xs = X[train].mean(axis=0), X[train].std(axis=0) + 1e-9
            base = np.average(Y[train], axis=0, weights=w[train])
            errors["mean preset"].append(_rmse(Y[test], np.tile(base, (test.sum(), 1)), w[test]))
            for kind, make in self._candidates().items():
                model = make()
                _fit(model, (X[train] - xm) / xs, Y[train], w[train])
                errors[kind].append(_rmse(Y[test], model.predict((X[test] - xm) / xs), w[test]))
        return {k: float(np.mean(v)) if v else float("nan") for k, v in errors.items()}

    def fit(self, X, Y, sample_weight=None, groups=None) -> "MusicToParams":
        X, Y = np.asarray(X, float), np.asarray(Y, float)
        w = np.ones(len(X)) if sample_weight is None else np.asarray(sample_weight, float)
        groups = np.asarray(groups if groups is not None else np.arange(len(X)))
        self.cv_ = self.cross_validate(X, Y, w, groups) if len(set(groups)) >= 3 else {}
        kind = self.kind
        if kind == "auto":
            scored = {k: v for k, v in self.cv_.items() if k in ("ridge", "mlp") and math.isfinite(v)}
            kind = min(scored, key=scored.get) if scored else "ridge"
        self.kind_ = kind
        self.x_mean_, self.x_std_ = X.mean(axis=0), X.std(axis=0) + 1e-9
        model = self._candidates()[kind]()
        _fit(model, (X - self.x_mean_) / self.x_std_, Y, w)
        if kind == "ridge":
            self.layers_ = [(model.coef_.T.copy(), np.atleast_1d(model.intercept_).copy())]
        else:
            self.layers_ = [(c.copy(), b.copy()) for c, b in zip(model.coefs_, model.intercepts_)]
        self.n_pairs_, self.n_songs_ = len(X), len(set(groups))
        return self

    def predict(self, X) -> np.ndarray:
        h = (np.atleast_2d(np.asarray(X, float)) - self.x_mean_) / self.x_std_
        for k, (W, b) in enumerate(self.layers_):
            h = h @ W + b
            if k < len(self.layers_) - 1:
                h = np.maximum(h, 0.0)  # MLPRegressor's default activation (relu)
        return h

    def save(self, path) -> None:
        from renderer.output.files import atomic_write_bytes

        doc = {"format": MODEL_FORMAT, "kind": "liandan.music_to_params", "model": self.kind_,
               "inputs": list(MUSIC_INPUTS), "outputs": list(TARGET_PARAMS), "x_mean": self.x_mean_.tolist(),
               "x_std": self.x_std_.tolist(), "layers": [[W.tolist(), b.tolist()] for W, b in self.layers_],
               "cv_rmse": self.cv_, "pairs": self.n_pairs_, "songs": self.n_songs_}
        atomic_write_bytes(path, json.dumps(doc).encode())

    @classmethod
    def load(cls, path) -> "MusicToParams":
        try:
            doc = json.loads(Path(path).read_text())
            if doc.get("kind") != "liandan.music_to_params" or doc.get("format") != MODEL_FORMAT:
                raise ModelError(f"{path}: not a liandan music-to-parameters model (format {MODEL_FORMAT})")
            if doc["inputs"] != list(MUSIC_INPUTS) or doc["outputs"] != list(TARGET_PARAMS):
                raise ModelError(f"{path}: the model's inputs or outputs are not this version's")
            m = cls(doc["model"])
            m.kind_ = doc["model"]
            m.x_mean_, m.x_std_ = np.asarray(doc["x_mean"], float), np.asarray(doc["x_std"], float)
            m.layers_ = [(np.asarray(W, float), np.asarray(b, float)) for W, b in doc["layers"]]
            shapes_ok = m.x_mean_.shape == (len(MUSIC_INPUTS),) and m.layers_[0][0].shape[0] == len(MUSIC_INPUTS) \
                and m.layers_[-1][0].shape[1] == len(TARGET_PARAMS)
            if not shapes_ok or not all(np.all(np.isfinite(W)) for W, _ in m.layers_):
                raise ModelError(f"{path}: the model's weights are malformed")
            m.cv_, m.n_pairs_, m.n_songs_ = dict(doc.get("cv_rmse") or {}), int(doc["pairs"]), int(doc["songs"])
        except ModelError:
            raise
        except (OSError, ValueError, KeyError, TypeError, IndexError) as exc:
            raise ModelError(f"{path}: cannot read the model ({type(exc).__name__}: {exc})") from exc
        return m


def _fit(model, X, Y, w) -> None:
    try:
        model.fit(X, Y, sample_weight=w)
    except TypeError:  # MLPRegressor without sample weights: repeat rows by weight instead
        reps = np.maximum(1, np.round(w / (w.mean() or 1.0) * 2)).astype(int)
        model.fit(np.repeat(X, reps, axis=0), np.repeat(Y, reps, axis=0))


def _rmse(Y, P, w) -> float:
    return float(np.sqrt(np.average(((Y - P) ** 2).mean(axis=1), weights=w)))


@dataclass
class Suggestion:
    name: str
    text: str  # .milk
    section: int
    base: str  # the real preset whose equations it keeps
    fit: float
    reason: str


def suggest_presets(song, model: MusicToParams, pool: list, n: int = 8, per_section: int = 4,
                    size: int = 64) -> list[Suggestion]:
    """Presets for ``song``: for each section the model's parameters put onto the ``per_section``
    real presets of ``pool`` (match candidates) nearest to them (their equations, waves and
    shaders stay real), each rendered against the probe music, dropped when dead, and ranked by
    how well it fits its section; the best ``n`` distinct ones."""
    from renderer import Renderer
    from renderer.milk.preset import load_milk, parse_milk

    from evo.genome import genome_from_preset, genome_text
    from evo.music.match import Candidate, section_fit
    from evo.music.reactivity import PROBE_FPS, measure_preset
    from evo.operators import repair

    bases = [(c, load_milk(c.path)) for c in pool]
    vectors = np.stack([params_vector(p.params) for _, p in bases])
    out: list[Suggestion] = []
    with Renderer(width=size, height=size, fps=PROBE_FPS, seed=0) as r:
        for i, section in enumerate(song.sections):
            want = model.predict(music_vector(section_music(song, section)))[0]
            nearest = np.argsort(((vectors - want) ** 2).sum(axis=1), kind="stable")[:per_section]
            for j in nearest:
                cand, preset = bases[int(j)]
                genome = genome_from_preset(preset)
                genome.params.update(params_from_vector(want))
                text = genome_text(repair(genome))
                child = parse_milk(text, source="suggestion")
                profile = measure_preset(r, child)
                if profile.brightness < 0.015 or profile.brightness > 0.95 or profile.motion < 0.002:
                    continue  # black, white-out or frozen
                fit = section_fit(section, Candidate(cand.name, cand.path, profile))
                out.append(Suggestion(f"{cand.name} ~ section {i + 1}", text, i, cand.path, fit.score, fit.reason))
    out.sort(key=lambda s: (-s.fit, s.name))
    seen, best = set(), []
    for s in out:
        if s.text not in seen:
            seen.add(s.text)
            best.append(s)
    return best[:n]
