"""A fitted generator: the :class:`~evo.generator.model.ParamMixture` plus the real presets it was
fitted on (the donors of code and discrete choices, the neighbours a dead preset is rescued
with), saved as one JSON file.

    model = fit_model(DATASET)            # good presets: healthy, render score >= the healthy median
    model.save(path); GeneratorModel.load(path)
    default_model()                       # shipped, fitted from projectm-data: works without a dataset
    model.member_preset(i)                # a member's Preset, read from its file (content-hash checked)
    model.nearest(preset, k, family=...)  # the k nearest healthy members in the latent space

Members are every healthy distinct preset of the dataset (``good`` marks the ones the mixture was
fitted on), each with its path and content hash, latent coordinates, mixture component, family
(when the dataset has families), render score and behaviour descriptors under the dataset's
render (``settings``), so generated presets can be rendered and compared the same way.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from renderer.milk.params import SCHEMA

from evo.generator.model import CONTINUOUS_KEYS, MODEL_FORMAT, ParamMixture, log_columns

DEFAULT_MODEL = Path(__file__).with_name("default_model.json")
GOOD_QUANTILE = 0.5
"""Good presets: healthy ones scoring at least this quantile of the healthy presets' render score."""


class ModelError(ValueError):
    """A model file that cannot be used; the message names it."""


@dataclass
class Member:
    path: str
    hash: str
    good: bool
    component: int
    latent: list[float]
    score: float | None = None
    family: int | None = None
    descriptors: list[float] = field(default_factory=list)

    def to_json(self) -> list:
        return [self.path, self.hash, int(self.good), self.component, [round(x, 4) for x in self.latent],
                None if self.score is None else round(self.score, 4), self.family,
                [round(x, 4) for x in self.descriptors]]

    @classmethod
    def from_json(cls, row: list) -> "Member":
        path, digest, good, comp, latent, score, family, desc = row
        return cls(path, digest, bool(good), int(comp), list(latent), score, family, list(desc))


@dataclass
class GeneratorModel:
    keys: tuple[str, ...]
    mixture: ParamMixture
    members: list[Member]
    settings: dict  # the dataset's render settings (evo.mining.rendered.mining_settings arguments)
    descriptor_names: tuple[str, ...]
    source: dict = field(default_factory=dict)  # dataset, counts, rule
    _cache: dict = field(default_factory=dict, repr=False, compare=False)

    # -------------------------------------------------------------- saving

    def to_json(self) -> dict:
        return {"format": MODEL_FORMAT, "kind": "liandan preset generator (PCA + Gaussian mixture)",
                "keys": list(self.keys), "mixture": self.mixture.to_json(), "settings": self.settings,
                "descriptor_names": list(self.descriptor_names), "source": self.source,
                "members": [m.to_json() for m in self.members]}

    @classmethod
    def from_json(cls, d: dict, where: str = "<model>") -> "GeneratorModel":
        if not isinstance(d, dict) or d.get("format") != MODEL_FORMAT:
            raise ModelError(f"{where}: not a generator model of format {MODEL_FORMAT}")
        try:
            keys = tuple(d["keys"])
            unknown = [k for k in keys if k not in CONTINUOUS_KEYS]
            if unknown:
                raise ModelError(f"{where}: {unknown[0]!r} is not a continuous MilkDrop parameter")
            mixture = ParamMixture.from_json(d["mixture"])
            if mixture.n_features_in_ != len(keys):
                raise ModelError(f"{where}: the mixture has {mixture.n_features_in_} columns for {len(keys)} keys")
            return cls(keys, mixture, [Member.from_json(r) for r in d["members"]], dict(d["settings"]),
                       tuple(d["descriptor_names"]), dict(d.get("source") or {}))
        except ModelError:
            raise
        except (KeyError, TypeError, ValueError) as exc:
            raise ModelError(f"{where}: malformed generator model ({type(exc).__name__}: {exc})") from exc

    def save(self, path: str | Path) -> None:
        from renderer.output.files import atomic_write_bytes

        atomic_write_bytes(Path(path), (json.dumps(self.to_json(), separators=(",", ":")) + "\n").encode())

    @classmethod
    def load(cls, path: str | Path) -> "GeneratorModel":
        path = Path(path)
        try:
            doc = json.loads(path.read_text())
        except (OSError, json.JSONDecodeError) as exc:
            raise ModelError(f"{path}: cannot read: {exc}") from exc
        return cls.from_json(doc, str(path))

    # -------------------------------------------------------------- using

    def vector(self, params: dict) -> np.ndarray:
        """A preset's continuous parameters in the model's column order."""
        return np.array([float(params.get(k, SCHEMA_DEFAULTS[k])) for k in self.keys])

    def latent_of(self, preset) -> np.ndarray:
        return self.mixture.transform(self.vector(preset.params)[None])[0]

    def latents(self) -> np.ndarray:
        if "latents" not in self._cache:
            self._cache["latents"] = np.array([m.latent for m in self.members], dtype=np.float64)
        return self._cache["latents"]

    def member_preset(self, i: int):
        """Member ``i``'s Preset, or None when its file is gone or no longer holds the same bytes."""
        from evo.mining.static import content_hash
        from renderer.milk.preset import PresetError, parse_milk

        cache = self._cache.setdefault("presets", {})
        if i not in cache:
            m = self.members[i]
            try:
                data = Path(m.path).read_bytes()
                cache[i] = parse_milk(data, source=m.path) if content_hash(data) == m.hash else None
            except (OSError, PresetError):
                cache[i] = None
            if len(cache) > 512:
                cache.pop(next(iter(cache)))
        return cache[i]

    def nearest(self, latent: np.ndarray, k: int = 3, among: np.ndarray | None = None,
                exclude_hash: str | None = None) -> list[int]:
        """Indices of the ``k`` members nearest ``latent`` (optionally only ``among`` these indices)
        whose files are still there."""
        pool = np.arange(len(self.members)) if among is None else np.asarray(among, dtype=int)
        if pool.size == 0:
            return []
        d = np.linalg.norm(self.latents()[pool] - latent, axis=1)
        out = []
        for j in pool[np.argsort(d, kind="stable")]:
            if self.members[j].hash == exclude_hash:
                continue
            if self.member_preset(int(j)) is not None:
                out.append(int(j))
            if len(out) >= k:
                break
        return out

    def family_members(self, family: int) -> np.ndarray:
        return np.array([i for i, m in enumerate(self.members) if m.family == family], dtype=int)

    def index_of_hashes(self, hashes) -> np.ndarray:
        pos = {m.hash: i for i, m in enumerate(self.members)}
        return np.array([pos[h] for h in hashes if h in pos], dtype=int)

    def descriptor_matrix(self) -> np.ndarray:
        return np.array([m.descriptors for m in self.members if m.descriptors], dtype=np.float64)


SCHEMA_DEFAULTS = {k: float(s.default) for k, s in SCHEMA.items()}


def fit_model(dataset: str | Path, *, max_components: int = 10, seed: int = 0) -> GeneratorModel:
    """Fit a generator on a mined dataset's good presets (see the module docstring)."""
    from evo.fitness.descriptors import DESCRIPTOR_NAMES
    from evo.mining.dataset import DatasetError, dataset_dir, healthy_rows, load_dataset, read_meta

    ds = dataset_dir(dataset)
    df = load_dataset(ds)
    meta = read_meta(ds)
    if "render_score" not in df or df["render_score"].notna().sum() == 0:
        raise DatasetError(f"{ds}: the dataset was mined without rendering; the generator needs render scores "
                           f"(run `liandan mine` without --no-render)")
    healthy = healthy_rows(df)
    cut = float(healthy["render_score"].quantile(GOOD_QUANTILE))
    good = (healthy["render_score"] >= cut).to_numpy()
    if good.sum() < 20:
        raise DatasetError(f"{ds}: only {int(good.sum())} good presets; the generator needs at least 20")
    keys = CONTINUOUS_KEYS
    X = healthy[[f"param_{k}" for k in keys]].to_numpy(dtype=np.float64)
    mixture = ParamMixture(max_components=max_components, log_columns=log_columns(keys), random_state=seed)
    mixture.fit(X[good])
    latent = mixture.transform(X)
    comps = mixture.responsibilities(latent).argmax(axis=1)
    families = _families_by_hash(ds)
    desc_cols = [f"desc_{d}" for d in DESCRIPTOR_NAMES]
    D = healthy[desc_cols].to_numpy(dtype=np.float64)
    members = []
    for i, (_, row) in enumerate(healthy.iterrows()):
        members.append(Member(str(row["path"]), str(row["hash"]), bool(good[i]), int(comps[i]), latent[i].tolist(),
                              float(row["render_score"]), families.get(row["hash"]),
                              D[i].tolist() if np.all(np.isfinite(D[i])) else []))
    settings = dict(((meta.get("render") or {}).get("settings")) or {})
    source = {"dataset": str(ds), "inputs": meta.get("inputs", []), "healthy": int(len(healthy)),
              "good": int(good.sum()), "good_rule": f"healthy and render_score >= {cut:.4f} "
              f"(the healthy presets' {GOOD_QUANTILE:.0%} quantile)", "components": int(len(mixture.weights_)),
              "latent_dims": int(mixture.components_.shape[0]),
              "explained_variance": round(float(mixture.explained_variance_ratio_.sum()), 4)}
    return GeneratorModel(tuple(keys), mixture, members, settings, tuple(DESCRIPTOR_NAMES), source)


def _families_by_hash(ds: Path) -> dict[str, int]:
    """hash -> family id from the dataset's saved families (evo.families), {} without them."""
    points = ds / "style" / "points.parquet"
    if not points.is_file():
        return {}
    import pandas as pd

    try:
        df = pd.read_parquet(points, columns=["hash", "family"])
    except Exception:  # noqa: BLE001 - families are optional here; a bad file means none
        return {}
    return {h: int(f) for h, f in zip(df["hash"], df["family"]) if int(f) >= 0}


def default_model() -> GeneratorModel:
    if not DEFAULT_MODEL.is_file():
        raise ModelError(f"{DEFAULT_MODEL}: the shipped generator model is missing; pass --dataset")
    return GeneratorModel.load(DEFAULT_MODEL)


def model_for(dataset: str | Path | None) -> GeneratorModel:
    """The model of a dataset (fitted once, kept as DATASET/generator/model.json until the dataset
    changes), or the shipped default without one."""
    from evo.mining.dataset import DATASET_FILE, dataset_dir

    if dataset is None:
        return default_model()
    ds = dataset_dir(dataset)
    saved = ds / "generator" / "model.json"
    if _fresh(saved, [ds / DATASET_FILE, ds / "style" / "points.parquet"]):
        try:
            return GeneratorModel.load(saved)
        except ModelError:
            pass
    model = fit_model(ds)
    saved.parent.mkdir(parents=True, exist_ok=True)
    model.save(saved)
    return model


def _fresh(saved: Path, inputs: list[Path]) -> bool:
    """A saved model newer than every input it was fitted from."""
    if not saved.is_file():
        return False
    t = saved.stat().st_mtime
    return all(not p.exists() or p.stat().st_mtime <= t for p in inputs)
