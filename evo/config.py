"""Run configuration: the defaults TOML, a user's TOML on top, CLI flags on top of that.

This is the one place each setting is declared. Every section is a frozen dataclass, so a part
of the program gets a read-only view of just what it needs (the evaluation its
:class:`EvalSettings`, selection the ``[votes]`` section) and nothing downstream can change a
setting behind the run's back. A run's config is saved in ``runs/<id>/config.json`` and is the
only input (besides the seed presets and the audio) that determines the run, so resume and
branch read it back from there.
"""

from __future__ import annotations

import dataclasses
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from evo.seeds import SEEDS_DIR

DEFAULT_CONFIG_PATH = Path(__file__).with_name("default_config.toml")
CORPUS_DIR = Path("/usr/share/projectM/presets")
MODES = ("autonomous", "interactive")
SEARCHES = ("ga", "qd")  # the generational GA (evo.ga) or MAP-Elites quality-diversity (evo.qd)
DIVERSITY = ("none", "sharing")


class ConfigError(ValueError):
    """A config file or override that cannot be used; names the file and key."""


@dataclass(frozen=True)
class RunSection:
    seed: int = 0
    population: int = 24
    generations: int = 10
    mode: str = "autonomous"
    votes_needed: int = 0
    vote_timeout_s: float = 300.0
    search: str = "ga"


@dataclass(frozen=True)
class SeedsSection:
    dir: str = ""
    random_fraction: float = 0.0
    md1_only: bool = False


@dataclass(frozen=True)
class GASection:
    tournament_size: int = 3
    elite: int = 2
    crossover_prob: float = 0.6
    mutation_prob: float = 0.9
    hall_of_fame: int = 12
    mutation_rates: dict[str, float] = field(default_factory=dict, hash=False)
    safe_ranges: str = ""  # a safe-ranges JSON (`liandan analyze`); "" = the schema's ranges
    # "none" is what a run's config.json without this key means (runs made before it existed
    # replay and resume unchanged); new runs get "sharing" from the TOML.
    diversity: str = "none"
    niche_radius: float = 0.25
    sharing_alpha: float = 1.0
    hall_of_fame_distance: float = 0.15
    hall_of_fame_ssim: float = 0.4
    # Decimals crossbreed blends are rounded to (6: as MilkDrop writes numbers, so a child's file
    # holds exactly its genome). 0 = unrounded: what a run's config.json without this key means,
    # so runs made before it existed replay and resume unchanged. New runs get 6 from the TOML.
    blend_decimals: int = 0


@dataclass(frozen=True)
class QDSection:
    """MAP-Elites (evo.qd): a CVT archive of ``cells`` cells over the named descriptors."""

    cells: int = 128
    measures: tuple[str, ...] = ("brightness", "colourfulness", "motion", "symmetry")
    centroid_samples: int = 20000
    vote_strength: float = 2.0


@dataclass(frozen=True)
class VotesSection:
    """Parameters of the vote rule (evo.selection: combined = machine + weight * Bayesian vote value)."""

    weight: float = 1.0
    best_bonus: float = 2.0
    prior: float = 1.0
    predictor_weight: float = 0.0
    reentry: int = 3


@dataclass(frozen=True)
class PredictorSection:
    """The learned taste model in selection (evo.predictor.taste). The defaults here are what a
    run's config.json without this section means (runs made before it existed replay and resume
    unchanged: no predictor); new runs get the TOML's values."""

    enabled: bool = False
    prescreen: int = 1  # breed this many times the children needed and render the best; 1 = off
    explore: float = 0.25  # share of the kept children chosen as the ones the model is least sure of
    max_weight: float = 0.5  # the model's largest share of the machine part of the combined score
    full_at: int = 60  # votes at which that share is reached (with a cross-validated AUC of 0.8)
    voters: str = ""  # comma-separated voter group whose taste is learned; "" = everyone


@dataclass(frozen=True)
class FitnessSection:
    width: int = 128
    height: int = 128
    frames: int = 90
    fps: float = 60.0
    mesh: tuple[int, int] = (48, 36)
    sample_every: int = 4
    static_every: int = 3
    skip: int = 8
    audio: str = ""
    audio_seed: int = 0
    # With a song: where in it candidates are rendered (seconds; -1: the liveliest section, chosen
    # when the run is created) and its beats from there on (seconds), which the score follows.
    audio_start: float = -1.0
    beat_times: tuple[float, ...] = ()
    render_seed: int = 0
    timeout_s: float = 20.0
    weights: dict[str, float] = field(default_factory=dict, hash=False)
    # whose picture candidates are judged on: "milkdrop2", or "butterchurn" for a show that runs
    # in a web player (renderer.player)
    player: str = "milkdrop2"


@dataclass(frozen=True)
class PreviewSection:
    enabled: bool = True
    size: int = 96
    frames: int = 18
    still: bool = True


@dataclass(frozen=True)
class EvaluationSection:
    workers: int = 2


@dataclass(frozen=True)
class EvalSettings:
    """What one evaluation depends on besides the genome: the ``[fitness]`` and ``[preview]``
    sections, as sent to every worker."""

    fitness: FitnessSection = field(default_factory=FitnessSection)
    preview: PreviewSection = field(default_factory=PreviewSection)

    def sample_indices(self) -> list[int]:
        """0-based indices of the frames statistics look at (the first ``skip`` are warm-up)."""
        f = self.fitness
        return list(range(f.skip, f.frames, f.sample_every))

    def render_key(self) -> tuple:
        f = self.fitness
        return (f.width, f.height, tuple(f.mesh), f.fps, f.render_seed, f.player)

    def audio_key(self) -> tuple:
        f = self.fitness
        return (f.audio, f.audio_seed, f.fps, f.audio_start)

    def to_dict(self) -> dict[str, Any]:
        """The flat form every checkpoint records (format 1)."""
        f, p = self.fitness, self.preview
        return {"width": f.width, "height": f.height, "frames": f.frames, "fps": f.fps, "mesh": list(f.mesh),
                "sample_every": f.sample_every, "static_every": f.static_every, "skip": f.skip, "audio": f.audio,
                "audio_seed": f.audio_seed, "render_seed": f.render_seed, "timeout_s": f.timeout_s,
                "weights": [[k, v] for k, v in sorted(f.weights.items())], "preview": p.enabled,
                "preview_size": p.size, "preview_frames": p.frames, "still": p.still,
                **({"audio_start": f.audio_start, "beat_times": list(f.beat_times)} if f.audio else {}),
                **({"player": f.player} if f.player != "milkdrop2" else {})}


@dataclass(frozen=True)
class RunConfig:
    run: RunSection = field(default_factory=RunSection)
    seeds: SeedsSection = field(default_factory=SeedsSection)
    ga: GASection = field(default_factory=GASection)
    votes: VotesSection = field(default_factory=VotesSection)
    qd: QDSection = field(default_factory=QDSection)
    predictor: PredictorSection = field(default_factory=PredictorSection)
    fitness: FitnessSection = field(default_factory=FitnessSection)
    preview: PreviewSection = field(default_factory=PreviewSection)
    evaluation: EvaluationSection = field(default_factory=EvaluationSection)

    @property
    def eval_settings(self) -> EvalSettings:
        return EvalSettings(self.fitness, self.preview)

    def to_dict(self) -> dict[str, Any]:
        return _plain(dataclasses.asdict(self))

    @classmethod
    def from_dict(cls, data: dict[str, Any], source: str = "<config>") -> "RunConfig":
        cfg = _merged(cls(), data, source)
        cfg.validate(source)
        return cfg

    def with_overrides(self, overrides: dict[str, Any], source: str = "<command line>") -> "RunConfig":
        """Copy with dotted keys replaced (``{"run.seed": 3}``); ``None`` values are ignored."""
        nested: dict[str, Any] = {}
        for dotted, value in overrides.items():
            if value is None:
                continue
            parts = dotted.split(".")
            node = nested
            for p in parts[:-1]:
                node = node.setdefault(p, {})
            node[parts[-1]] = value
        out = _merged(self, nested, source)
        out.validate(source)
        return out

    def validate(self, source: str = "<config>") -> None:
        def need(ok: bool, key: str, what: str) -> None:
            if not ok:
                raise ConfigError(f"{source}: {key} {what}")

        r, g, f = self.run, self.ga, self.fitness
        need(r.population >= 2, "run.population", f"must be >= 2, got {r.population}")
        need(r.generations >= 1, "run.generations", f"must be >= 1, got {r.generations}")
        need(r.mode in MODES, "run.mode", f"must be one of {MODES}, got {r.mode!r}")
        need(r.votes_needed >= 0, "run.votes_needed", "must be >= 0")
        need(0 <= self.seeds.random_fraction <= 1, "seeds.random_fraction", "must be in [0, 1]")
        need(g.tournament_size >= 1, "ga.tournament_size", "must be >= 1")
        need(0 <= g.elite < r.population, "ga.elite", f"must be in [0, population), got {g.elite}")
        need(0 <= g.crossover_prob <= 1, "ga.crossover_prob", "must be in [0, 1]")
        need(0 <= g.mutation_prob <= 1, "ga.mutation_prob", "must be in [0, 1]")
        need(g.hall_of_fame >= 1, "ga.hall_of_fame", "must be >= 1")
        if g.safe_ranges:
            from evo.mining.safe_ranges import SafeRangesError, load_safe_ranges

            try:
                load_safe_ranges(g.safe_ranges)
            except SafeRangesError as exc:
                raise ConfigError(f"{source}: ga.safe_ranges: {exc}") from None
        need(r.search in SEARCHES, "run.search", f"must be one of {SEARCHES}, got {r.search!r}")
        need(g.diversity in DIVERSITY, "ga.diversity", f"must be one of {DIVERSITY}, got {g.diversity!r}")
        need(g.niche_radius > 0, "ga.niche_radius", f"must be > 0, got {g.niche_radius}")
        need(g.sharing_alpha > 0, "ga.sharing_alpha", f"must be > 0, got {g.sharing_alpha}")
        need(g.hall_of_fame_distance >= 0, "ga.hall_of_fame_distance", "must be >= 0")
        need(-1 <= g.hall_of_fame_ssim <= 1, "ga.hall_of_fame_ssim", "must be in [-1, 1]")
        from evo.fitness.descriptors import DESCRIPTOR_NAMES

        q = self.qd
        need(q.cells >= 2, "qd.cells", f"must be >= 2, got {q.cells}")
        need(q.centroid_samples >= q.cells, "qd.centroid_samples", "must be >= qd.cells")
        need(len(q.measures) >= 1 and len(set(q.measures)) == len(q.measures), "qd.measures",
             "must name one or more distinct descriptors")
        bad = sorted(set(q.measures) - set(DESCRIPTOR_NAMES))
        need(not bad, "qd.measures", f"has unknown descriptors {bad} (known: {', '.join(DESCRIPTOR_NAMES)})")
        need(q.vote_strength >= 0, "qd.vote_strength", "must be >= 0")
        need(8 <= f.width <= 4096 and 8 <= f.height <= 4096, "fitness.width/height", "must be in [8, 4096]")
        need(f.frames >= 2, "fitness.frames", f"must be >= 2, got {f.frames}")
        need(f.fps > 0, "fitness.fps", "must be > 0")
        need(len(f.mesh) == 2 and all(m >= 2 for m in f.mesh), "fitness.mesh", "must be [mx, my], each >= 2")
        need(f.sample_every >= 1, "fitness.sample_every", "must be >= 1")
        need(f.static_every >= 1, "fitness.static_every", "must be >= 1")
        need(len(range(f.skip, f.frames, f.sample_every)) >= 2, "fitness.skip/sample_every", "must leave >= 2 sampled frames")
        need(0 <= f.skip < f.frames, "fitness.skip", "must be in [0, frames)")
        need(f.timeout_s > 0, "fitness.timeout_s", "must be > 0")
        from renderer.player import PLAYERS

        need(f.player in PLAYERS, "fitness.player", f"must be one of {', '.join(PLAYERS)}, got {f.player!r}")
        v = self.votes
        need(v.weight >= 0, "votes.weight", f"must be >= 0, got {v.weight}")
        need(v.best_bonus >= 0, "votes.best_bonus", f"must be >= 0, got {v.best_bonus}")
        need(v.prior > 0, "votes.prior", f"must be > 0, got {v.prior}")
        need(0 <= v.predictor_weight <= 1, "votes.predictor_weight", "must be in [0, 1]")
        need(v.reentry >= 0, "votes.reentry", f"must be >= 0, got {v.reentry}")
        p = self.predictor
        need(1 <= p.prescreen <= 10, "predictor.prescreen", f"must be in [1, 10], got {p.prescreen}")
        need(0 <= p.explore <= 1, "predictor.explore", "must be in [0, 1]")
        need(0 <= p.max_weight <= 1, "predictor.max_weight", "must be in [0, 1]")
        need(p.full_at >= 1, "predictor.full_at", "must be >= 1")
        need(self.preview.size >= 8, "preview.size", "must be >= 8")
        need(self.preview.frames >= 1, "preview.frames", "must be >= 1")
        from evo.fitness.score import FEATURES

        unknown = sorted(set(f.weights) - set(FEATURES))
        need(not unknown, "fitness.weights", f"has unknown features {unknown} (known: {', '.join(FEATURES)})")
        need(self.evaluation.workers >= 0, "evaluation.workers", "must be >= 0")


def section_from(cls: type, data: Any, source: str = "<config>"):
    """One section from its dict form (a run's config.json) or itself; missing keys keep defaults,
    ``None`` values are ignored."""
    if isinstance(data, cls):
        return data
    return _merged(cls(), {k: v for k, v in (data or {}).items() if v is not None}, source)


def _plain(obj: Any) -> Any:
    """Tuples as lists: the dict form is what config.json holds."""
    if isinstance(obj, dict):
        return {k: _plain(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_plain(v) for v in obj]
    return obj


def _merged(obj: Any, data: dict[str, Any], source: str, prefix: str = "") -> Any:
    """A copy of dataclass ``obj`` with fields set from a nested dict, checking names and types."""
    if not isinstance(data, dict):
        raise ConfigError(f"{source}: {prefix.rstrip('.') or 'config'} must be a table")
    fields = {f.name: f for f in dataclasses.fields(obj)}
    changes: dict[str, Any] = {}
    for key, value in data.items():
        dotted = f"{prefix}{key}"
        if key not in fields:
            raise ConfigError(f"{source}: unknown key {dotted!r} (known: {', '.join(sorted(fields))})")
        current = getattr(obj, key)
        if dataclasses.is_dataclass(current):
            changes[key] = _merged(current, value, source, dotted + ".")
        elif isinstance(current, dict):  # tables merge key by key: a user file may set one weight
            changes[key] = {**current, **_coerce(current, value, dotted, source)}
        else:
            changes[key] = _coerce(current, value, dotted, source)
    return dataclasses.replace(obj, **changes)


def _coerce(current: Any, value: Any, key: str, source: str) -> Any:
    kind = type(current)
    try:
        if kind is bool:
            if not isinstance(value, bool):
                raise TypeError
            return value
        if kind is int:
            if isinstance(value, bool) or (isinstance(value, float) and not value.is_integer()):
                raise TypeError
            return int(value)
        if kind is float:
            if isinstance(value, bool):
                raise TypeError
            return float(value)
        if kind is str:
            return str(value) if value is not None else ""
        if kind in (list, tuple):  # the element type of the default (ints: mesh), floats when it is empty
            if isinstance(value, (str, bytes)):
                raise TypeError
            element = type(current[0]) if len(current) else float
            return tuple(element(v) for v in value)
        if kind is dict:
            return {str(k): float(v) for k, v in dict(value).items()}
    except (TypeError, ValueError):
        pass
    raise ConfigError(f"{source}: {key} must be a {kind.__name__}, got {value!r}")


def read_toml(path: str | Path) -> dict[str, Any]:
    path = Path(path)
    try:
        with open(path, "rb") as fh:
            return tomllib.load(fh)
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read: {exc.strerror or exc}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from exc


def load_config(path: str | Path | None = None, overrides: dict[str, Any] | None = None) -> RunConfig:
    """Defaults file, then ``path`` (if any), then dotted ``overrides``."""
    cfg = _merged(RunConfig(), read_toml(DEFAULT_CONFIG_PATH), str(DEFAULT_CONFIG_PATH))
    if path is not None:
        cfg = _merged(cfg, read_toml(path), str(path))
    cfg.validate(str(path or DEFAULT_CONFIG_PATH))
    if overrides:
        cfg = cfg.with_overrides(overrides)
    return cfg


def default_seeds_dir(cfg: RunConfig) -> Path:
    if cfg.seeds.dir:
        return Path(cfg.seeds.dir)
    return CORPUS_DIR if CORPUS_DIR.is_dir() else SEEDS_DIR
