"""Where ``liandan generate`` samples: the whole corpus, one style family (``--family F3``) or one
gap of the style map (``--gap G2``), read from a dataset's saved families and map (evo.families)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from evo.generator.corpus_model import GeneratorModel
from evo.generator.generate import Aim, component_weights

MIN_POOL = 2


class AimError(ValueError):
    """A family or gap that cannot be aimed at; the message says why and what to run."""


def aim_for(model: GeneratorModel, dataset: str | Path | None, family: str | None = None,
            gap: str | None = None) -> Aim:
    from evo.families.saved import StyleError, has_families, has_map, load_families, load_map, parse_family

    if family is None and gap is None:  # the whole corpus; kept presets still get a family when there are families
        return Aim(families=load_families(dataset) if dataset is not None and has_families(dataset) else None)

    if dataset is None:
        raise AimError("aiming at a family or a gap needs --dataset")
    if not has_families(dataset):
        raise AimError(f"{dataset}: no families yet: run `liandan cluster {dataset}` first")
    try:
        fams = load_families(dataset)
        if family is not None:
            fam = fams.family(parse_family(family))
            pool = model.index_of_hashes(fams.members(fam.id)["hash"])
            if len(pool) < MIN_POOL:
                raise AimError(f"family {fam.name} has {len(pool)} healthy presets in the model; pick a larger one")
            good = np.array([i for i in pool if model.members[i].good], dtype=int)
            pool = good if len(good) >= MIN_POOL else pool
            return Aim("family", fam.name, pool, component_weights(model, pool), families=fams)
        if not has_map(dataset):
            raise AimError(f"{dataset}: no style map yet: run `liandan map {dataset}` first")
        atlas = load_map(dataset, fams)
        g = atlas.gap(gap)
        around = atlas.gap_neighbours(g.id)
        xy = dict(zip(around["hash"], atlas.xy[g.neighbours]))
        pool = model.index_of_hashes(around["hash"])
        if len(pool) < MIN_POOL:
            raise AimError(f"gap {g.id} has {len(pool)} healthy neighbours in the model; pick another gap")
        sides = np.array([xy[model.members[i].hash] for i in pool]) - np.array([g.x, g.y])
        return Aim("gap", g.id, pool, component_weights(model, pool), gap=g, atlas=atlas, families=fams, sides=sides)
    except StyleError as exc:
        raise AimError(str(exc)) from None
