"""The doctor over many files: each file diagnosed (and repaired or enhanced when asked) in the
sweep's worker processes, results in input order, outputs written by the caller's process only.

The worker job (:class:`CareJob`) keeps one renderer, the safe ranges and the generator model (the
source of healthy neighbours for rescues) per process. It never writes anything: the repaired text
and the pictures come back to :func:`care`, which writes them under OUTDIR and refuses any path
that is an input file, so an input is never modified whatever OUTDIR is.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import Iterator

import numpy as np

from evo.config import EvalSettings
from evo.doctor.diagnose import DEFAULT_SAFE_RANGES, DoctorJob, diagnose_text
from evo.doctor.findings import Diagnosis, finding

NEIGHBOUR_FAMILY_VOTES = 5
"""A dead preset's family: the most common family among its 5 nearest healthy presets by parameters
(its own picture says nothing about its style)."""


@dataclass(frozen=True)
class CareJob(DoctorJob):
    """Diagnose, and with ``repair``/``enhance`` also make the repaired or enhanced text."""

    repair: bool = False
    enhance: bool = False
    model: str | None = ""  # generator model JSON for rescues and enhancement; "" = the shipped one; None = none

    def __call__(self, path: str, config, cache: dict) -> dict:
        from evo.mining.mine import read_preset_bytes

        self.setup(cache)
        data, why = read_preset_bytes(Path(path))
        if data is None:
            diag = Diagnosis(path, findings=[finding("unreadable", path, None, f"Cannot read the file: {why}.")])
            return {"file": path, "status": "rendered", "error": None, "diagnosis": diag.to_json(), "image": None}
        text = data.decode("latin-1")
        renderers, ranges = cache.get("renderers"), cache["ranges"]
        try:
            diag, still, result = diagnose_text(data, path, ranges=ranges, renderers=renderers, silence=self.silence)
            out = {"file": path, "status": "rendered", "error": None, "diagnosis": diag.to_json(), "image": still}
            if self.repair and renderers is not None:
                out["repair"] = self._repair(text, path, diag, still, cache)
            if self.enhance and renderers is not None and diag.healthy:
                out["enhance"] = self._enhance(text, path, result, cache)
        except Exception:
            r = cache.pop("renderers", None)
            if r is not None:
                r.release()
            raise
        return out

    def _model(self, cache: dict):
        if "model" not in cache:
            from evo.generator.corpus_model import GeneratorModel, ModelError, default_model

            try:
                cache["model"] = None if self.model is None else (
                    GeneratorModel.load(self.model) if self.model else default_model())
            except ModelError:
                cache["model"] = None
        return cache["model"]

    def _diagnose(self, cache: dict):
        renderers, ranges = cache["renderers"], cache["ranges"]

        def run(candidate: str):
            diag, still, _ = diagnose_text(candidate, "<repair>", ranges=ranges, renderers=renderers, silence=False)
            return diag, still

        return run

    def _repair(self, text: str, path: str, diag: Diagnosis, still, cache: dict) -> dict:
        from evo.doctor.repair import repair_preset

        model = self._model(cache)
        neighbours = None if model is None else (lambda preset: family_neighbours(model, preset))
        r = repair_preset(text, path, diag, still, self._diagnose(cache), cache["ranges"], neighbours)
        if r.after is not None:  # findings of the candidate point at the repaired copy, not at "<repair>"
            for f in r.after.findings:
                f.file = path
            r.after.file = path
        return {"result": r.to_json(), "text": r.text, "image": r.after_still}

    def _enhance(self, text: str, path: str, result: dict, cache: dict) -> dict:
        from evo.doctor.enhance import enhance_preset

        e = enhance_preset(text, path, result, cache["renderers"], self._model(cache), cache["ranges"])
        return e.to_json() | {"image": e.after_still}


def family_neighbours(model, preset, k: int = 3) -> list[tuple[str, object]]:
    """The ``k`` healthy presets nearest ``preset`` by parameters, within its family when the model
    knows families (the family most common among its nearest healthy presets)."""
    from collections import Counter

    latent = model.latent_of(preset)
    near = model.nearest(latent, NEIGHBOUR_FAMILY_VOTES)
    fams = [model.members[i].family for i in near if model.members[i].family is not None]
    among = None
    if fams:
        fam = Counter(fams).most_common(1)[0][0]
        among = model.family_members(fam)
    idx = model.nearest(latent, k + 1, among=among)
    out = []
    for i in idx:
        p = model.member_preset(i)
        if p is not None and p.source != preset.source:
            out.append((Path(model.members[i].path).name, p))
    return out[:k]


def care(paths: list[str], job: CareJob, workers: int = 2, timeout_s: float | None = None) -> Iterator[dict]:
    """Run ``job`` on every path, in worker processes (``workers`` 0: here), results in input order.
    A worker that crashes or runs past ``timeout_s`` costs its file a ``render_error`` finding.

    Files with the same bytes are diagnosed once (a third of projectm-data are copies of another
    file): a copy gets the first file's result with its own path, without the pictures."""
    from renderer.output.sweep import render_sweep

    if not paths:
        return
    same_as = copies_of(paths)
    firsts = [p for p in paths if p not in same_as]
    copied = set(same_as.values())
    limit = timeout_s or (job.settings.fitness.timeout_s * (12 if job.repair or job.enhance else 3) + 60)
    results = render_sweep(firsts, workers=workers, timeout_s=limit, job=job) if workers > 0 else _here(firsts, job)
    kept: dict[str, dict] = {}  # results of files that have copies, for the copies
    for p in paths:
        if p in same_as:
            yield as_copy(kept[same_as[p]], same_as[p], p)
            continue
        r = next(results)
        if r.get("diagnosis") is None:
            diag = Diagnosis(r["file"], findings=[finding("render_error", r["file"], None,
                                                          f"The doctor could not finish: {r.get('error')}.")])
            r = {**r, "diagnosis": diag.to_json(), "image": None}
        if p in copied:
            kept[p] = without_pictures(r)
        yield r


def copies_of(paths: list[str]) -> dict[str, str]:
    """``{path: the first earlier path with the same bytes}`` (unreadable files are their own)."""
    import hashlib

    first: dict[bytes, str] = {}
    out: dict[str, str] = {}
    for p in paths:
        try:
            digest = hashlib.blake2b(Path(p).read_bytes(), digest_size=16).digest()
        except OSError:
            continue
        if digest in first:
            out[p] = first[digest]
        else:
            first[digest] = p
    return out


def without_pictures(value):
    """A result with every picture (numpy array) left out: what a copy's result may hold."""
    if isinstance(value, dict):
        return {k: without_pictures(v) for k, v in value.items() if not isinstance(v, np.ndarray)}
    if isinstance(value, list):
        return [without_pictures(v) for v in value if not isinstance(v, np.ndarray)]
    return value


def as_copy(value, src: str, path: str):
    """``value`` with every mention of the file ``src`` (a string equal to it) made ``path``."""
    if isinstance(value, dict):
        return {k: as_copy(v, src, path) for k, v in value.items()}
    if isinstance(value, list):
        return [as_copy(v, src, path) for v in value]
    return path if isinstance(value, str) and value == src else value


def _here(paths: list[str], job: CareJob) -> Iterator[dict]:
    cache: dict = {}
    try:
        for p in paths:
            try:
                yield job(p, None, cache)
            except Exception as exc:  # noqa: BLE001 - one bad file is a finding, never a stop
                yield {"file": p, "status": "error", "error": f"{type(exc).__name__}: {exc}"}
    finally:
        r = cache.get("renderers")
        if r is not None:
            r.release()


def output_path(path: str, root: Path | None, out: Path, inputs: set[Path]) -> Path:
    """Where the repaired copy of ``path`` goes: its path under ``root`` (or its name) inside ``out``;
    ValueError when that is one of the input files."""
    src = Path(path)
    rel = src.relative_to(root) if root is not None and src.is_relative_to(root) else Path(src.name)
    target = out / rel
    if target.resolve() in inputs or (target.exists() and target.resolve() == src.resolve()):
        raise ValueError(f"{target}: would overwrite an input file; choose another output folder")
    return target


def job_for(settings: EvalSettings, *, render: bool = True, silence: bool = True, repair: bool = False,
            enhance: bool = False, safe_ranges: str | None = None, model: str | None = "") -> CareJob:
    job = CareJob(settings=settings, render=render, silence=silence, repair=repair, enhance=enhance, model=model)
    return replace(job, safe_ranges=str(safe_ranges or DEFAULT_SAFE_RANGES))


def still_or_none(x) -> np.ndarray | None:
    return x if isinstance(x, np.ndarray) else None
