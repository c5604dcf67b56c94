"""The doctor's report on a folder: ``diagnoses.json`` (every file, every finding) and
``report.html`` (self-contained: counts per finding worst first, then the worst files with their
last frame and what is wrong with them), plus ``worst.png``, a contact sheet of the worst files."""

from __future__ import annotations

import base64
import html
import io
import json
from collections import Counter
from pathlib import Path

import numpy as np

from evo.doctor.findings import CHECKS, SEVERITIES, SEVERITY_RANK, Diagnosis

HTML_FILES = 400  # files listed in the HTML (the JSON has every one)
SHEET_FILES = 48


def summary(diags: list[Diagnosis]) -> dict:
    """Counts per check (files with it, findings), per worst severity, and totals."""
    files_with: Counter = Counter()
    findings: Counter = Counter()
    for d in diags:
        checks = {f.check for f in d.findings}
        files_with.update(checks)
        findings.update(f.check for f in d.findings)
    per_check = [{"check": c, "severity": CHECKS[c][0], "title": CHECKS[c][1], "files": files_with[c],
                  "findings": findings[c]} for c in files_with]
    per_check.sort(key=lambda x: (SEVERITY_RANK[x["severity"]], -x["files"], x["check"]))
    worst = Counter(d.worst or "clean" for d in diags)
    return {"files": len(diags), "rendered": sum(d.rendered for d in diags), "healthy": sum(d.healthy for d in diags),
            "dead": sum(d.dead for d in diags), "by_worst_severity": {s: worst.get(s, 0) for s in (*SEVERITIES, "clean")},
            "checks": per_check}


def ranked(diags: list[Diagnosis]) -> list[int]:
    """Indices of ``diags``, worst first (heaviest findings, then errors, then name)."""
    return sorted(range(len(diags)), key=lambda i: (-diags[i].burden(), -diags[i].counts()["error"], diags[i].file))


class WorstStills:
    """The last frames of the worst files only (the report shows no others): a bounded heap, so a
    folder of 100,000 presets keeps HTML_FILES pictures, not 100,000."""

    def __init__(self, keep: int = HTML_FILES):
        self.keep = keep
        self._heap: list[tuple] = []

    def add(self, i: int, diag: Diagnosis, still: np.ndarray | None) -> None:
        import heapq

        if still is None or diag.burden() <= 0:
            return
        item = (diag.burden(), -i, still)
        if len(self._heap) < self.keep:
            heapq.heappush(self._heap, item)
        elif item[:2] > self._heap[0][:2]:
            heapq.heapreplace(self._heap, item)

    def __getitem__(self, i: int) -> np.ndarray | None:
        return next((s for _, j, s in self._heap if -j == i), None)

    def __len__(self) -> int:  # indexable like a list of every file's picture
        return 1 << 62


def write_report(diags: list[Diagnosis], stills, out: str | Path, title: str = "") -> dict:
    """Write the three files into ``out``; returns the summary. ``stills[i]`` is file i's last frame
    (a list, or a :class:`WorstStills`)."""
    from renderer.output.files import atomic_write_bytes

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    s = summary(diags)
    doc = {"format": 1, "summary": s, "diagnoses": [d.to_json() for d in diags]}
    atomic_write_bytes(out / "diagnoses.json", (json.dumps(doc, indent=1) + "\n").encode())
    order = ranked(diags)
    atomic_write_bytes(out / "report.html", _html(diags, stills, order, s, title).encode("utf-8"))
    _worst_sheet(diags, stills, order, out / "worst.png")
    return s


def _png_data(img: np.ndarray | None) -> str:
    if img is None:
        return ""
    from PIL import Image

    buf = io.BytesIO()
    Image.fromarray(img).save(buf, format="PNG")
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode()


_STYLE = """body{font-family:sans-serif;background:#111;color:#ddd;margin:2em}table{border-collapse:collapse}
td,th{border-bottom:1px solid #333;padding:4px 8px;vertical-align:top;text-align:left}
.error{color:#ff6b6b}.warning{color:#ffc857}.info{color:#8ab4f8}img{width:96px;height:96px;image-rendering:pixelated}
.file{font-weight:bold}small{color:#999}"""


def _html(diags, stills, order, s, title) -> str:
    e = html.escape
    rows = "".join(f"<tr><td class='{c['severity']}'>{c['severity']}</td><td>{e(c['title'])} <small>({c['check']})"
                   f"</small></td><td>{c['files']}</td><td>{c['findings']}</td></tr>" for c in s["checks"])
    files = []
    for i in order[:HTML_FILES]:
        d = diags[i]
        if not d.findings:
            break
        img = _png_data(stills[i] if i < len(stills) else None)
        items = "".join(f"<li class='{f.severity}'>{e(f.severity)} · {e(CHECKS[f.check][1])}"
                        f"{' · line ' + str(f.line) if f.line else ''}: <span style='color:#ddd'>{e(f.message)}</span>"
                        f"{' <small>repair: ' + e(f.fix) + '</small>' if f.fix else ''}</li>"
                        for f in d.sorted_findings())
        score = d.render.get("score")
        files.append(f"<tr><td>{'<img src=' + chr(39) + img + chr(39) + '>' if img else ''}</td><td><div class='file'>"
                     f"{e(Path(d.file).name)}</div><small>{e(d.file)}"
                     f"{' · score ' + format(score, '.3f') if isinstance(score, (int, float)) else ''}</small>"
                     f"<ul>{items}</ul></td></tr>")
    w = s["by_worst_severity"]
    return (f"<!doctype html><html><head><meta charset='utf-8'><title>liandan doctor {e(title)}</title>"
            f"<style>{_STYLE}</style></head><body><h1>liandan doctor {e(title)}</h1>"
            f"<p>{s['files']} files · {s['rendered']} rendered · {s['healthy']} healthy · {s['dead']} dead · worst "
            f"finding: {w['error']} error, {w['warning']} warning, {w['info']} info, {w['clean']} clean</p>"
            f"<h2>Findings, worst first</h2><table><tr><th>severity</th><th>finding</th><th>files</th>"
            f"<th>findings</th></tr>{rows}</table><h2>Files, worst first</h2><table>{''.join(files)}</table>"
            f"</body></html>\n")


def _worst_sheet(diags, stills, order, path: Path) -> None:
    from renderer.output.contact_sheet import Tile, save_contact_sheet

    tiles = []
    for i in order[:SHEET_FILES]:
        d = diags[i]
        if not d.findings or d.burden() == 0:
            break
        worst = d.sorted_findings()[0]
        tiles.append(Tile(f"{Path(d.file).stem} ({worst.check})", stills[i] if i < len(stills) else None, worst.check))
    if tiles:
        save_contact_sheet(tiles, path, tile_size=(128, 128))
