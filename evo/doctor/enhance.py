"""``liandan doctor --enhance``: nudge a healthy preset toward the good region of its family and keep
the nudge only when the machine score rises and nothing new goes wrong.

The good region: the good presets (healthy, top half by render score) of the preset's family in
the generator model (its family: the most common among its nearest healthy presets by parameters),
or, without families, the good presets among its 30 nearest. The preset's continuous parameters
move part of the way (``STEPS``) from where it sits in the model's latent space toward the centre
of that region (``ParamMixture.move``: what the latent space does not hold stays), then into the
central safe ranges; equations and switches stay. Each step is rendered and diagnosed; the best
score that beats the original with no new error or warning wins. Opt-in only: it changes a
working preset's look.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

import numpy as np

from evo.doctor.findings import SEVERITY_RANK

STEPS = (0.3, 0.6)
LOCAL_REGION = 30


@dataclass
class EnhanceResult:
    file: str
    verdict: str  # enhanced | not_better | no_model
    before_score: float | None = None
    after_score: float | None = None
    text: str | None = None
    changes: list[dict] = field(default_factory=list)
    region: str = ""
    tried: list[dict] = field(default_factory=list)
    after_still: np.ndarray | None = None

    def to_json(self) -> dict:
        return {"file": self.file, "verdict": self.verdict, "before_score": self.before_score,
                "after_score": self.after_score, "changes": self.changes, "region": self.region, "tried": self.tried,
                "text": self.text}


def good_region(model, preset) -> tuple[np.ndarray, str]:
    """The latent centre of the preset's family's good presets (or of its good neighbours)."""
    latent = model.latent_of(preset)
    near = model.nearest(latent, 5)
    fams = [model.members[i].family for i in near if model.members[i].family is not None]
    if fams:
        fam = Counter(fams).most_common(1)[0][0]
        idx = [i for i in model.family_members(fam) if model.members[i].good]
        if len(idx) >= 3:
            return model.latents()[idx].mean(axis=0), f"family F{fam} ({len(idx)} good presets)"
    good = np.array([i for i, m in enumerate(model.members) if m.good], dtype=int)
    d = np.linalg.norm(model.latents()[good] - latent, axis=1)
    idx = good[np.argsort(d, kind="stable")[:LOCAL_REGION]]
    return model.latents()[idx].mean(axis=0), f"its {len(idx)} nearest good presets"


def enhance_preset(text: str, file: str, before: dict, renderers, model, ranges) -> EnhanceResult:
    from evo.doctor.diagnose import diagnose_text
    from evo.doctor.repair import into_safe_ranges
    from evo.genome import genome_from_preset, genome_text
    from renderer.milk.preset import format_number, parse_milk

    result = EnhanceResult(file, "no_model", before_score=before.get("score"))
    if model is None:
        return result
    preset = parse_milk(text, source=file)
    base_diag, _, _ = diagnose_text(text, file, ranges=ranges, renderers=renderers, silence=False)
    worst_before = _worst_rank(base_diag)
    centre, result.region = good_region(model, preset)
    here = model.latent_of(preset)
    g0 = genome_from_preset(preset)
    best = None
    for step in STEPS:
        g = g0.copy()
        moved = model.mixture.move(model.vector(g.params)[None], (here + step * (centre - here))[None])[0]
        for key, value in zip(model.keys, moved):
            g.params[key] = round(float(value), 4)
        if ranges is not None:
            g, _ = into_safe_ranges(g, ranges)
        candidate = genome_text(g)
        diag, still, res = diagnose_text(candidate, file, ranges=ranges, renderers=renderers, silence=False)
        score = res.get("score")
        ok = diag.healthy and _worst_rank(diag) >= worst_before and score is not None \
            and (result.before_score is None or score > result.before_score)
        result.tried.append({"step": step, "score": score, "healthy": diag.healthy, "kept": False})
        if ok and (best is None or score > best[0]):
            best = (score, candidate, still, g, step)
    if best is None:
        result.verdict = "not_better"
        return result
    score, candidate, still, g, step = best
    for t in result.tried:
        t["kept"] = t["step"] == step
    result.verdict, result.after_score, result.text, result.after_still = "enhanced", score, candidate, still
    result.changes = [{"key": k, "before": format_number(g0.params[k]), "after": format_number(g.params[k])}
                      for k in model.keys if g.params[k] != g0.params[k]]
    return result


def _worst_rank(diag) -> int:
    """Rank of the worst error or warning (2 = none of either); an enhancement must not lower it."""
    ranks = [SEVERITY_RANK[f.severity] for f in diag.findings if f.severity != "info"]
    return min(ranks) if ranks else 2
