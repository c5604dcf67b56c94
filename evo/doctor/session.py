"""One ``liandan doctor`` call as a library function: diagnose files and folders, and write what
was asked for (repaired copies, enhanced copies, a manifest, before/after sheets, the report).

    run = doctor(["presets/"], out="fixed/", repair=True, progress=callback)
    run.diagnoses          # one Diagnosis per file, input order
    run.repaired           # manifest entries of the files written

Outputs, all under OUTDIR (inputs are hashed before and after: a changed input is an error):

    OUTDIR/<path under its input folder>.milk        repaired copies (only repairs that helped)
    OUTDIR/enhanced/<path>.milk                      enhanced copies (--enhance)
    OUTDIR/manifest.json                             per file: verdict, what changed and why, the
                                                     findings before and after, every candidate tried
    OUTDIR/before_after.png                          each repair or enhancement: before | after
    REPORT/diagnoses.json, report.html, worst.png    the report (REPORT: --report, else OUTDIR)
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from evo.config import EvalSettings
from evo.doctor.findings import Diagnosis
from evo.doctor.folder import care, job_for, output_path, still_or_none
from evo.doctor.rendered import DOCTOR_SETTINGS


SHEET_PAIRS = 200  # before/after pairs on the sheet (the manifest lists every repair)


class DoctorError(ValueError):
    """Bad input for the doctor (a missing path, an output folder that would overwrite inputs)."""


@dataclass
class DoctorRun:
    diagnoses: list[Diagnosis] = field(default_factory=list)
    stills: object = None  # evo.doctor.report.WorstStills: the worst files' last frames
    repaired: list[dict] = field(default_factory=list)  # manifest entries with verdict "repaired"
    manifest: list[dict] = field(default_factory=list)
    enhanced: list[dict] = field(default_factory=list)
    out: Path | None = None
    report: Path | None = None
    summary: dict = field(default_factory=dict)

    def to_json(self) -> dict:
        from evo.doctor.report import summary

        return {"summary": self.summary or summary(self.diagnoses),
                "diagnoses": [d.to_json() for d in self.diagnoses],
                **({"repairs": self.manifest} if self.manifest else {}),
                **({"enhanced": self.enhanced} if self.enhanced else {})}


def input_files(inputs) -> list[tuple[Path, Path | None]]:
    """(file, the folder it was found under or None) for every file and folder given, in order."""
    from renderer.milk.files import find_presets

    out = []
    for item in map(Path, inputs):
        if item.is_dir():
            out.extend((p, item) for p in find_presets(item))
        elif item.exists():
            out.append((item, None))
        else:
            raise DoctorError(f"{item}: no such file or folder")
    return out


def _hash(path: Path) -> str | None:
    from evo.mining.static import content_hash

    try:
        return content_hash(path.read_bytes())
    except OSError:
        return None


def doctor(inputs, *, out: str | Path | None = None, report: str | Path | None = None, repair: bool = False,
           enhance: bool = False, render: bool = True, silence: bool = True, settings: EvalSettings = DOCTOR_SETTINGS,
           safe_ranges: str | None = None, model: str | None = "", workers: int = 2,
           progress: Callable[[int, int], None] | None = None) -> DoctorRun:
    files = input_files(inputs)
    if (repair or enhance) and out is None:
        raise DoctorError("--repair and --enhance write new files: give an output folder (-o OUTDIR)")
    if (repair or enhance) and not render:
        raise DoctorError("--repair and --enhance verify every change by rendering: drop --no-render")
    out_dir = Path(out) if out is not None else None
    inputs_resolved = {p.resolve() for p, _ in files}
    targets = {}
    if out_dir is not None:
        for p, root in files:
            try:
                targets[str(p)] = output_path(str(p), root, out_dir, inputs_resolved)
            except ValueError as exc:
                raise DoctorError(str(exc)) from None
    before_hash = {str(p): _hash(p) for p, _ in files}
    job = job_for(settings, render=render, silence=silence, repair=repair, enhance=enhance, safe_ranges=safe_ranges,
                  model=model)
    from evo.doctor.report import WorstStills

    run = DoctorRun(out=out_dir, stills=WorstStills())
    pairs = []
    for i, r in enumerate(care([str(p) for p, _ in files], job, workers=workers), 1):
        diag = Diagnosis.from_json(r["diagnosis"])
        run.diagnoses.append(diag)
        run.stills.add(i - 1, diag, still_or_none(r.get("image")))
        if repair and "repair" in r:
            entry = _write_repair(r, targets[r["file"]], before_hash[r["file"]])
            run.manifest.append(entry)
            if entry["verdict"] in ("repaired", "not_helped") and len(pairs) < SHEET_PAIRS:
                pairs.append((Path(r["file"]).stem, still_or_none(r.get("image")), still_or_none(r["repair"].get("image")),
                              entry["verdict"]))
            if entry["verdict"] == "repaired":
                run.repaired.append(entry)
        if enhance and "enhance" in r:
            entry = _write_enhanced(r, out_dir / "enhanced" / targets[r["file"]].relative_to(out_dir))
            run.enhanced.append(entry)
            if entry["verdict"] == "enhanced" and len(pairs) < SHEET_PAIRS:
                pairs.append((Path(r["file"]).stem, still_or_none(r.get("image")), still_or_none(r["enhance"].get("image")),
                              "enhanced"))
        if progress is not None:
            progress(i, len(files))
    changed = [f for f, h in before_hash.items() if _hash(Path(f)) != h]
    if changed:  # never expected: everything is written under OUTDIR only
        raise DoctorError(f"input files changed while the doctor ran: {', '.join(changed[:5])}")
    from evo.doctor.report import summary, write_report

    run.summary = summary(run.diagnoses)
    if out_dir is not None and (repair or enhance):
        _write_manifest(out_dir, run, settings)
        if pairs:
            _before_after(pairs, out_dir / "before_after.png")
    report_dir = Path(report) if report is not None else out_dir
    if report_dir is not None:
        write_report(run.diagnoses, run.stills, report_dir, title=", ".join(map(str, inputs)))
        run.report = report_dir
    return run


def _write_repair(r: dict, target: Path, input_hash: str | None) -> dict:
    from evo.mining.static import content_hash
    from renderer.output.files import atomic_write_bytes

    res = r["repair"]["result"]
    entry = {"file": r["file"], "input_hash": input_hash, "verdict": res["verdict"], "output": None,
             "changes": res["changes"], "parents": res.get("parents", []),
             "before": _brief(res.get("before")), "after": _brief(res.get("after")), "tried": res.get("tried", [])}
    text = r["repair"].get("text")
    if res["verdict"] == "repaired" and text:
        data = text.encode("latin-1", errors="replace")
        target.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_bytes(target, data)
        entry["output"], entry["output_hash"] = str(target), content_hash(data)
    return entry


def _write_enhanced(r: dict, target: Path) -> dict:
    from renderer.output.files import atomic_write_bytes

    e = {k: v for k, v in r["enhance"].items() if k not in ("text", "image")}
    e["output"] = None
    if e["verdict"] == "enhanced" and r["enhance"].get("text"):
        target.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_bytes(target, r["enhance"]["text"].encode("latin-1", errors="replace"))
        e["output"] = str(target)
    return e


def _brief(d: dict | None) -> dict | None:
    if not d:
        return None
    return {"burden": sum({"error": 10.0, "warning": 3.0}.get(f["severity"], 0.0) for f in d["findings"]),
            "healthy": d["healthy"], "dead": d["dead"], "score": (d.get("render") or {}).get("score"),
            "findings": [{"check": f["check"], "severity": f["severity"], "line": f["line"], "message": f["message"]}
                         for f in d["findings"]]}


def _write_manifest(out: Path, run: DoctorRun, settings: EvalSettings) -> None:
    from evo.mining.rendered import describe
    from renderer.output.files import atomic_write_bytes

    counts: dict[str, int] = {}
    for e in run.manifest:
        counts[e["verdict"]] = counts.get(e["verdict"], 0) + 1
    doc = {"format": 1, "render": describe(settings), "counts": counts, "repairs": run.manifest,
           "enhanced": run.enhanced}
    out.mkdir(parents=True, exist_ok=True)
    atomic_write_bytes(out / "manifest.json", (json.dumps(doc, indent=1) + "\n").encode())


def _before_after(pairs, path: Path) -> None:
    from renderer.output.contact_sheet import Tile, save_contact_sheet

    tiles = []
    for name, before, after, verdict in pairs:
        tiles.append(Tile(f"before: {name}", before, "no picture"))
        tiles.append(Tile(f"{'after' if verdict != 'not_helped' else 'tried (not written)'}: {name}", after,
                          "not helped"))
    save_contact_sheet(tiles, path, columns=6, tile_size=(128, 128))
