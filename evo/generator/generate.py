"""``liandan generate``: new presets drawn from the generative model, each rendered, diagnosed by
the doctor and scored; the healthy ones are written, the rest dropped and counted.

A candidate (:func:`draw`): a latent point sampled from the mixture (``--family``: components
weighted by the family's members; ``--gap``: near the midpoint of two of the gap's neighbours from
opposite sides of it); a donor, one of the three real good presets nearest that point (the
family's members when aiming at one; for a gap, the two neighbours with their MilkDrop 2 slots
mixed); the donor's genome with its continuous parameters moved halfway to the point
(``ParamMixture.move``: what the latent space does not hold stays the donor's), no further out of
a safe range than the donor's own value, except the brightness-setting ones (``DONOR_TONE``),
which stay the donor's. Then the clamp of evolution's repair. Candidates are rendered at the
dataset's settings in the sweep's worker processes (one crash costs one candidate), so scores and
descriptors compare with the corpus's own.

OUTDIR gets the ``.milk`` files, ``sheet.png`` (a contact sheet of them), ``manifest.json`` (per
preset: file, family as the families place it and its donor's, parents, mixture component, score,
descriptors, novelty; the counts of dropped candidates by reason; the figures of :func:`figures`)
and ``model.json`` (the model used). ``liandan evolve --seeds OUTDIR`` starts a run from them.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np

from evo.generator.corpus_model import GeneratorModel

BATCH_SLACK = 1.25  # candidates per wanted preset in a batch (most are healthy)
MAX_ATTEMPTS_PER_PRESET = 6  # plain and --family; --gap tries up to GAP_ATTEMPTS_PER_PRESET
GAP_ATTEMPTS_PER_PRESET = 30
GAP_BATCH = 8.0  # candidates per wanted preset in a --gap batch (about one in ten lands)
DONOR_CHOICES = 3
STEP = 0.5
DONOR_TONE = ("fDecay", "fGammaAdj", "fWaveAlpha", "fWaveScale", "fVideoEchoAlpha")
"""Parameters that stay the donor's: they set how bright the feedback builds up, and moving them
is what turned generated presets black or white."""
"""How far a donor's numbers move toward the sampled point (1: all the way). Measured on
projectm-data: all the way makes half the presets near-white (brightness 0.75-0.89 where the
corpus has 6% above 0.8): a donor's equations were written for numbers near its own."""


@dataclass
class Aim:
    """Where to sample: everywhere (pool None), inside a family, or into a map gap."""

    kind: str = "corpus"  # corpus | family | gap
    label: str = ""
    pool: np.ndarray | None = None  # member indices donors come from
    weights: np.ndarray | None = None  # component weights
    gap: object | None = None  # evo.families.style_map.Gap
    atlas: object | None = None  # evo.families.saved.StyleAtlas
    families: object | None = None  # evo.families.saved.Families
    sides: np.ndarray | None = None  # gap: each pool member's map position relative to the gap's centre


@dataclass
class Candidate:
    text: str
    parents: list[str]
    component: int
    latent: list[float]
    donor_family: int | None = None  # the family of the (first) donor in the model, when it knows families


@dataclass
class GenerateSummary:
    out: Path
    wanted: int
    attempts: int = 0
    kept: list[dict] = field(default_factory=list)
    dropped: dict[str, int] = field(default_factory=dict)
    figures: dict = field(default_factory=dict)
    sheet: Path | None = None


def component_weights(model: GeneratorModel, pool: np.ndarray) -> np.ndarray:
    """The mixture's weights as the pool's members fill its components (plus a small floor, so a
    sparse component is still reachable)."""
    r = model.mixture.responsibilities(model.latents()[pool])
    w = r.mean(axis=0) + 1e-3
    return w / w.sum()


def draw(model: GeneratorModel, rng: np.random.Generator, aim: Aim, ranges=None, temperature: float = 1.0) -> Candidate | None:
    """One candidate (see the module docstring), or None when no donor file can be read."""
    from evo.genome import genome_from_preset, genome_text
    from evo.operators import crossbreed
    from evo.operators import repair as clamp_genome

    if aim.kind == "gap" and aim.pool is not None and len(aim.pool) >= 2:
        a, b = _across(aim, rng)
        pa, pb = model.member_preset(a), model.member_preset(b)
        if pa is None or pb is None:
            return None
        lat = model.latents()
        mid = 0.5 * (lat[a] + lat[b])
        comp = int(model.mixture.responsibilities(mid[None]).argmax())
        z = rng.multivariate_normal(mid, model.mixture.covariances_[comp] * 0.1 * temperature)
        g = crossbreed(genome_from_preset(pa), genome_from_preset(pb), 0.5,
                       rng=random.Random(int(rng.integers(2**31))), mode="slots")
        parents = [model.members[a].path, model.members[b].path]
        donor_family = model.members[a].family
    else:
        z, comps = model.mixture.sample(1, rng, aim.weights, temperature)
        z, comp = z[0], int(comps[0])
        if aim.pool is not None:
            pool = aim.pool
        else:
            pool = np.array([i for i, m in enumerate(model.members) if m.good and m.component == comp], dtype=int)
        near = model.nearest(z, DONOR_CHOICES, among=pool)
        if not near:
            return None
        donor = near[int(rng.integers(len(near)))]
        g = genome_from_preset(model.member_preset(donor))
        parents = [model.members[donor].path]
        donor_family = model.members[donor].family
    here = model.mixture.transform(model.vector(g.params)[None])[0]
    z = here + STEP * (z - here)
    moved = model.mixture.move(model.vector(g.params)[None], z[None])[0]
    for key, value in zip(model.keys, moved):
        if key not in DONOR_TONE:
            g.params[key] = round(no_further_out(float(value), float(g.params[key]), ranges and ranges.for_key(key)), 4)
    g = clamp_genome(g, ranges)
    g.origin = {"op": "generate", "parents": parents, "component": comp}
    return Candidate(genome_text(g), parents, comp, [round(float(x), 4) for x in z], donor_family)


def no_further_out(value: float, before: float, safe) -> float:
    """``value`` kept inside the safe range [lo, hi], or no further out of it than ``before`` was
    (the rule evolution's mutation follows with safe ranges)."""
    if safe is None:
        return value
    return min(max(value, min(safe.lo, before)), max(safe.hi, before))


def _across(aim: Aim, rng: np.random.Generator) -> tuple[int, int]:
    """Two of the gap's neighbours, the second on the far side of the gap from the first when
    there is one (their map directions from the centre point more than 90 degrees apart)."""
    i = int(rng.integers(len(aim.pool)))
    others = [j for j in range(len(aim.pool)) if j != i]
    if aim.sides is not None:
        far = [j for j in others if float(aim.sides[i] @ aim.sides[j]) < 0]
        others = far or others
    j = others[int(rng.integers(len(others)))]
    return int(aim.pool[i]), int(aim.pool[j])


def generate(model: GeneratorModel, n: int, out: str | Path, *, aim: Aim | None = None, seed: int = 0,
             workers: int = 2, ranges=None, progress: Callable[[int, int], None] | None = None) -> GenerateSummary:
    """Write ``n`` healthy generated presets into ``out`` (fewer when the attempts run out)."""
    from evo.doctor.diagnose import DoctorJob, default_safe_ranges
    from evo.doctor.rendered import settings_from_dict

    aim = aim or Aim()
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    work = out / ".candidates"
    work.mkdir(exist_ok=True)
    ranges = ranges if ranges is not None else default_safe_ranges()
    settings = settings_from_dict(model.settings)
    job = DoctorJob(settings=settings, silence=False)
    rng = np.random.default_rng(seed)
    summary = GenerateSummary(out, n)
    per = GAP_ATTEMPTS_PER_PRESET if aim.kind == "gap" else MAX_ATTEMPTS_PER_PRESET
    cap = max(n * per, n + 4)
    stills: list[tuple[str, np.ndarray | None]] = []
    while len(summary.kept) < n and summary.attempts < cap:
        per_kept = BATCH_SLACK if aim.kind != "gap" else GAP_BATCH  # few land in a gap: larger batches
        batch = min(cap - summary.attempts, max(2, int(np.ceil((n - len(summary.kept)) * per_kept))))
        cands: dict[str, Candidate] = {}
        for _ in range(batch):
            summary.attempts += 1
            c = draw(model, rng, aim, ranges)
            if c is None:
                summary.dropped["no donor"] = summary.dropped.get("no donor", 0) + 1
                continue
            path = work / f"candidate_{summary.attempts:05d}.milk"
            path.write_bytes(c.text.encode("latin-1", errors="replace"))
            cands[str(path)] = c
        for result in _run(list(cands), job, workers):
            c = cands[result["file"]]
            diag = result.get("diagnosis") or {}
            reason = _drop_reason(result, diag)
            if reason is None and aim.kind == "gap":
                reason = None if _lands_in_gap(aim, result["file"], diag, model) else "outside the gap"
            if reason is not None:
                summary.dropped[reason] = summary.dropped.get(reason, 0) + 1
            elif len(summary.kept) < n:
                entry = _keep(out, len(summary.kept) + 1, seed, c, diag)
                summary.kept.append(entry)
                stills.append((entry["file"], result.get("image")))
            Path(result["file"]).unlink(missing_ok=True)
            if progress is not None:
                progress(len(summary.kept), n)
    _remove_tree(work)
    summary.figures = figures(model, summary, gap=aim.kind == "gap")
    if aim.families is not None:
        _assign_families(aim, out, summary)
    summary.sheet = _sheet(stills, out / "sheet.png")
    _write_manifest(model, summary, aim, seed)
    model.save(out / "model.json")
    return summary


def _run(paths: list[str], job, workers: int):
    from renderer.output.sweep import render_sweep

    if not paths:
        return
    if workers > 0:
        yield from render_sweep(paths, workers=workers, timeout_s=job.settings.fitness.timeout_s * 2 + 60, job=job)
        return
    cache: dict = {}
    for p in paths:
        try:
            yield job(p, None, cache)
        except Exception as exc:  # noqa: BLE001 - one bad candidate is a drop, never a stop
            yield {"file": p, "status": "error", "error": f"{type(exc).__name__}: {exc}"}


def _drop_reason(result: dict, diag: dict) -> str | None:
    if result.get("status") != "rendered" or not diag:
        return "render failed"
    if diag.get("dead"):
        return next((f["check"] for f in diag["findings"] if f["check"] in
                     ("black", "white", "frozen", "flat", "noise", "render_error")), "dead")
    if not diag.get("healthy"):
        return next((f["check"] for f in diag["findings"] if f["severity"] == "error"), "unhealthy")
    return None


def _keep(out: Path, i: int, seed: int, c: Candidate, diag: dict) -> dict:
    from renderer.milk.preset import parse_milk

    donor = Path(c.parents[0]).stem
    name = f"liandan gen - s{seed} {i:03d} from {_safe_name(donor)[:48]}.milk"
    data = c.text.encode("latin-1", errors="replace")
    parse_milk(data, source=name)  # what is written reads back (a writer bug fails loudly here)
    (out / name).write_bytes(data)
    r = diag.get("render") or {}
    return {"file": name, "parents": c.parents, "component": c.component, "latent": c.latent,
            "score": r.get("score"), "stats": r.get("stats") or {}, "descriptors": r.get("descriptors") or {},
            "findings": [f["check"] for f in diag.get("findings", [])], "family": None,
            "donor_family": c.donor_family}


def _safe_name(text: str) -> str:
    return "".join(ch if ch.isalnum() or ch in " -_.,()&+" else "_" for ch in text).strip()


def _lands_in_gap(aim: Aim, path: str, diag: dict, model: GeneratorModel) -> bool:
    row = dataset_row(path, diag, model)
    xy = aim.atlas.place(row)
    return bool(aim.gap.contains(xy)[0])


def dataset_row(path: str | Path, diag: dict, model: GeneratorModel):
    """A generated preset as a one-row dataset frame (static features + its render's statistics and
    descriptors), so families and the map can place it like a mined preset."""
    import pandas as pd

    from evo.config import load_config
    from evo.mining.rendered import render_row
    from evo.mining.static import content_hash, static_row

    path = Path(path)
    data = path.read_bytes()
    row = static_row(path, path.parent, data, None)
    r = diag.get("render") or {}
    record = {"stats": r.get("stats") or {}, "descriptors": r.get("descriptors") or {}, "error": r.get("error"),
              "warnings": 0, "seconds": diag.get("seconds"), "media": False}
    row.update(render_row(record, content_hash(data), dict(load_config().fitness.weights)))
    return pd.DataFrame([row])


def _assign_families(aim: Aim, out: Path, summary: GenerateSummary) -> None:
    for entry in summary.kept:
        diag = {"render": {"stats": entry["stats"], "descriptors": entry["descriptors"]}}
        try:
            fam = int(aim.families.predict(dataset_row(out / entry["file"], diag, None))[0])
        except Exception:  # noqa: BLE001 - a family is a label; without one the preset still stands
            continue
        entry["family"] = None if fam < 0 else fam
    if aim.kind == "family":
        want = int(aim.label.lstrip("Ff"))
        fams = [e["family"] for e in summary.kept]
        summary.figures["in_family"] = round(sum(f == want for f in fams) / max(len(fams), 1), 4)


def figures(model: GeneratorModel, summary: GenerateSummary, gap: bool = False) -> dict:
    """Healthy share, novelty against corpus-to-corpus distances, scores against the corpus."""
    attempted = summary.attempts - summary.dropped.get("no donor", 0)
    gap_misses = summary.dropped.get("outside the gap", 0)
    unhealthy = sum(v for k, v in summary.dropped.items() if k not in ("no donor", "outside the gap"))
    out = {"attempts": summary.attempts, "rendered": attempted, "healthy": attempted - unhealthy,
           "healthy_share": round((attempted - unhealthy) / attempted, 4) if attempted else None,
           "kept": len(summary.kept)}
    if gap:
        healthy = attempted - unhealthy
        out["gap_share"] = round((healthy - gap_misses) / healthy, 4) if healthy else None
    corpus = model.descriptor_matrix()
    gen = np.array([[e["descriptors"].get(d, np.nan) for d in model.descriptor_names] for e in summary.kept])
    if len(corpus) > 2 and len(gen):
        nn = nearest_distances(gen, corpus)
        base = corpus_nearest_distances(corpus)
        for e, d in zip(summary.kept, nn):
            e["novelty"] = round(float(d), 5)
        out["novelty_median"] = round(float(np.nanmedian(nn)), 5)
        out["corpus_nn_median"] = round(float(np.median(base)), 5)
        out["novelty_ratio"] = round(out["novelty_median"] / out["corpus_nn_median"], 3) if out["corpus_nn_median"] else None
        out["novel_share"] = round(float(np.mean(nn > np.median(base))), 4)
    scores = np.array([e["score"] for e in summary.kept if e.get("score") is not None], dtype=float)
    corpus_scores = np.array([m.score for m in model.members if m.score is not None], dtype=float)
    if scores.size and corpus_scores.size:
        out["score_mean"] = round(float(scores.mean()), 4)
        out["score_median"] = round(float(np.median(scores)), 4)
        out["corpus_score_mean"] = round(float(corpus_scores.mean()), 4)
        out["corpus_score_median"] = round(float(np.median(corpus_scores)), 4)
        out["score_percentile"] = round(float(np.mean(corpus_scores[:, None] <= scores[None]).mean()), 4)
    return out


def nearest_distances(points: np.ndarray, corpus: np.ndarray) -> np.ndarray:
    """Euclidean distance from each point to its nearest corpus point (descriptors are all 0..1)."""
    from sklearn.neighbors import NearestNeighbors

    ok = np.all(np.isfinite(points), axis=1)
    out = np.full(len(points), np.nan)
    if ok.any():
        out[ok] = NearestNeighbors(n_neighbors=1).fit(corpus).kneighbors(points[ok])[0][:, 0]
    return out


def corpus_nearest_distances(corpus: np.ndarray) -> np.ndarray:
    """Each corpus point's distance to its nearest other corpus point (exact duplicates of content
    are not in the corpus: members are distinct presets)."""
    from sklearn.neighbors import NearestNeighbors

    d = NearestNeighbors(n_neighbors=2).fit(corpus).kneighbors(corpus)[0]
    return d[:, 1]


def _sheet(stills: list[tuple[str, np.ndarray | None]], path: Path) -> Path | None:
    from renderer.output.contact_sheet import Tile, save_contact_sheet

    if not stills:
        return None
    save_contact_sheet([Tile(Path(name).stem.removeprefix("liandan gen - "), img, "no picture")
                        for name, img in stills], path, tile_size=(128, 128))
    return path


def _write_manifest(model: GeneratorModel, summary: GenerateSummary, aim: Aim, seed: int) -> None:
    from renderer.output.files import atomic_write_bytes

    doc = {"format": 1, "seed": seed, "wanted": summary.wanted, "aim": {"kind": aim.kind, "label": aim.label},
           "model": {"source": model.source, "settings": model.settings}, "figures": summary.figures,
           "dropped": summary.dropped, "presets": [{k: v for k, v in e.items() if k != "stats"} for e in summary.kept],
           "sheet": summary.sheet.name if summary.sheet else None}
    atomic_write_bytes(summary.out / "manifest.json", (json.dumps(doc, indent=1) + "\n").encode())


def _remove_tree(path: Path) -> None:
    import shutil

    shutil.rmtree(path, ignore_errors=True)
