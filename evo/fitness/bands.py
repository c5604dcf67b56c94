"""Where the score's bands come from: ``bands.json`` beside this module, fitted from the corpus.

Each band is the target range of one image statistic (see evo.fitness.score). Hand-set numbers
were guesses; the shipped file holds bands fitted from the distribution of real presets
(Debian's projectm-data) rendered at the fitness's own settings, by ``liandan bands DATASET``
(evo.mining.bands). The score keeps its hand-set table as the fallback for a missing or damaged
file and for any feature the file does not name, so a run never fails over this file.
"""

from __future__ import annotations

import json
import math
import warnings
from pathlib import Path

BANDS_PATH = Path(__file__).with_name("bands.json")
BANDS_FORMAT = 1

Band = tuple[float, float, float, float]


class BandsFileError(ValueError):
    pass


def read_bands(path: str | Path = BANDS_PATH) -> dict[str, tuple[str, Band]]:
    """``{feature: (statistic, (lo0, lo1, hi1, hi0))}`` from a bands file; raises BandsFileError
    naming the file and the entry when it is not usable."""
    path = Path(path)
    try:
        data = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError) as exc:
        raise BandsFileError(f"{path}: cannot read: {exc}") from exc
    if not isinstance(data, dict) or data.get("format") != BANDS_FORMAT or not isinstance(data.get("features"), dict):
        raise BandsFileError(f"{path}: not a bands file of format {BANDS_FORMAT}")
    out: dict[str, tuple[str, Band]] = {}
    for name, entry in data["features"].items():
        try:
            stat = str(entry["statistic"])
            band = tuple(float(x) for x in entry["band"])
        except (KeyError, TypeError, ValueError) as exc:
            raise BandsFileError(f"{path}: feature {name!r}: needs 'statistic' and 'band' [lo0, lo1, hi1, hi0]") from exc
        if len(band) != 4 or not all(math.isfinite(x) for x in band) or not (band[0] < band[1] <= band[2] < band[3]):
            raise BandsFileError(f"{path}: feature {name!r}: band {list(band)} must be 4 finite numbers, lo0 < lo1 <= hi1 < hi0")
        out[str(name)] = (stat, band)  # type: ignore[assignment]
    return out


def fitted_features(hand_set: dict[str, tuple[str, Band]], path: str | Path = BANDS_PATH) -> dict[str, tuple[str, Band]]:
    """``hand_set`` with each band the file has for the same feature and statistic; the hand-set
    table unchanged (and a warning) when the file is missing or damaged."""
    if not Path(path).is_file():
        return dict(hand_set)
    try:
        fitted = read_bands(path)
    except BandsFileError as exc:
        warnings.warn(f"{exc}; using the hand-set fitness bands", stacklevel=2)
        return dict(hand_set)
    return {name: (stat, fitted[name][1] if name in fitted and fitted[name][0] == stat else band)
            for name, (stat, band) in hand_set.items()}
