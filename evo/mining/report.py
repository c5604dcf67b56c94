"""``analyze``: a dataset in, a report folder out.

    REPORT/report.html        self-contained (plotly's JavaScript and every thumbnail inlined):
                              opens offline, can be mailed
    REPORT/report.json        the report's numbers (labels, rules, model scores, bands)
    REPORT/safe_ranges.json   safe parameter ranges for evolution (evo.mining.safe_ranges)
    REPORT/bands.json         fitness bands fitted from this dataset (evo.mining.bands); copy it to
                              evo/fitness/bands.json, or use `liandan bands`, to make the score use them
"""

from __future__ import annotations

import base64
import html
import json
import math
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from evo.mining import analysis, figures
from evo.mining.dataset import DatasetError, dataset_dir, finite_or_none, load_dataset, media_path, read_meta
from evo.mining.labels import GOOD_QUANTILE, Labels, collect_labels
from renderer.output.files import atomic_write_bytes

GALLERY = 24


@dataclass
class ReportResult:
    html: Path
    safe_ranges: Path
    bands: Path | None
    numbers: dict = field(default_factory=dict)
    seconds: float = 0.0

    def summary_lines(self) -> list[str]:
        n = self.numbers
        lines = [f"{n['counts']['rows']} files, {n['counts']['distinct']} distinct parsed presets, "
                 f"{n['counts']['rendered']} rendered"]
        lines.append(f"quality label: {n['labels']['used']}; good = top {100 * (1 - GOOD_QUANTILE):.0f}% "
                     f"({n['labels']['good']} of {n['labels']['labelled']})")
        m = n.get("model")
        if m:
            lines.append(f"model: cross-validated R² {m['r2']:.2f} ± {m['r2_std']:.2f}, Spearman {m['spearman']:.2f} "
                         f"on {m['n']} labelled presets")
        lines.append(f"report written in {self.seconds:.1f} s")
        return lines


def write_report(dataset: str | Path, out: str | Path, ratings: list | None = None, runs_dir: str | Path | None = None,
                 seed: int = 0) -> ReportResult:
    t0 = time.monotonic()
    out = Path(out)
    df = load_dataset(dataset)
    meta = read_meta(dataset)
    if out.exists() and not out.is_dir():
        raise DatasetError(f"{out}: exists and is not a folder")
    out.mkdir(parents=True, exist_ok=True)
    labels = collect_labels(df, ratings, runs_dir)
    numbers, sections = build_sections(df, meta, labels, dataset, seed)
    from evo.mining.safe_ranges import safe_ranges_document

    healthy = int(numbers["counts"]["healthy"])
    ranges = safe_ranges_document(df, str(Path(dataset).resolve()), healthy)
    ranges_path = out / "safe_ranges.json"
    atomic_write_bytes(ranges_path, (json.dumps(ranges, indent=1) + "\n").encode())
    sections.append(("Safe ranges", _safe_ranges_section(ranges)))
    bands_path = None
    if numbers.get("bands_fitted"):
        bands_path = out / "bands.json"
        doc = {"format": 1, "about": "Fitness bands fitted from this dataset (`liandan analyze`); see evo/mining/bands.py",
               "fitted_from": {"dataset": str(Path(dataset).resolve()), "render": (meta.get("render") or {}).get("described"),
                               "presets": healthy, "settings_mismatch": numbers.get("bands_mismatch")},
               "features": numbers["bands_fitted"]}
        atomic_write_bytes(bands_path, (json.dumps(doc, indent=1) + "\n").encode())
    page = _page(meta, numbers, sections, dataset)
    html_path = out / "report.html"
    atomic_write_bytes(html_path, page.encode("utf-8"))
    result = ReportResult(html_path, ranges_path, bands_path, numbers, round(time.monotonic() - t0, 2))
    numbers["seconds"] = result.seconds
    atomic_write_bytes(out / "report.json", (json.dumps(numbers, indent=1, default=_jsonable) + "\n").encode())
    return result


def _jsonable(x):
    if isinstance(x, (np.integer,)):
        return int(x)
    if isinstance(x, (np.floating,)):
        return None if not np.isfinite(x) else float(x)
    return str(x)


# ---------------------------------------------------------------- sections


def build_sections(df: pd.DataFrame, meta: dict, labels: Labels, dataset, seed: int) -> tuple[dict, list]:
    """The report's numbers and its HTML sections (title, html) in order."""
    from evo.fitness.score import FEATURES
    from evo.mining.bands import BandsError, fit_bands, settings_mismatch
    from evo.mining.dataset import healthy_rows

    d = analysis.distinct(df)
    quality = labels.quality.reindex(d.index)
    good = labels.good.reindex(d.index).fillna(False)
    labelled = d[quality.notna()]
    rendered = d["stat_luma_mean"].notna() if "stat_luma_mean" in d else pd.Series(False, index=d.index)
    healthy = healthy_rows(df) if "render_error" in df else df.iloc[0:0]
    degenerate = d["render_degenerate"].value_counts().to_dict() if "render_degenerate" in d else {}
    numbers: dict = {
        "dataset": str(Path(dataset).resolve()),
        "counts": {"rows": int(len(df)), "parse_errors": int(df["error"].notna().sum()), "distinct": int(len(d)),
                   "duplicates": int(df["duplicate_of"].notna().sum()), "rendered": int(rendered.sum()),
                   "render_errors": int(d["render_error"].notna().sum()) if "render_error" in d else 0,
                   "degenerate": {str(k): int(v) for k, v in degenerate.items()}, "healthy": int(len(healthy))},
        "labels": {"used": labels.used, "fallback": labels.fallback, "labelled": int(len(labelled)),
                   "good": int(good.sum()), "good_threshold": finite_or_none(labelled.index.size and quality.dropna().quantile(GOOD_QUANTILE)),
                   "sources": [s.describe() for s in labels.sources], "agreement": labels.agreement()},
    }
    sections: list[tuple[str, str]] = [("Overview", _overview(df, d, meta, numbers))]
    sections.append(("Quality labels", _labels_section(d, labels, numbers, dataset)))

    use_rendered = not labels.fallback
    feats = analysis.model_features(labelled, rendered=use_rendered) if len(labelled) else []
    diff = analysis.differing_features(labelled, good.reindex(labelled.index), feats, top=None) if feats else pd.DataFrame()
    numbers["differing"] = diff.head(40).to_dict("records")
    sections.append(("Parameters: all vs good", _distribution_section(labelled, good, diff)))

    corr_cols = _correlation_columns(d, diff)
    if len(corr_cols) >= 2:
        c = d[corr_cols].copy()
        c["quality"] = quality
        corr = analysis.spearman_matrix(c, list(c.columns))
        numbers["quality_correlation"] = {k: finite_or_none(v) for k, v in corr["quality"].drop("quality").items()}
        sections.append(("Correlations", _figure(figures.correlation_heatmap(corr)) + _p(
            "Spearman rank correlation between the parameters that separate good presets most, the image "
            "statistics, the descriptors and the quality label (one row per distinct preset).")))

    ranked = list(diff["feature"]) if len(diff) else []
    knobs = [c for c in ranked if c.startswith("param_") or c in ("waves_enabled", "shapes_enabled")][:40]
    singles = analysis.golden_combinations(labelled, good.reindex(labelled.index), ranked[:40])[0]
    pairs = analysis.golden_combinations(labelled, good.reindex(labelled.index), knobs)[1]
    numbers["golden"] = {"singles": [r.__dict__ for r in singles], "pairs": [r.__dict__ for r in pairs]}
    sections.append(("Golden combinations", _golden_section(singles, pairs, labelled, good)))

    model = analysis.quality_model(labelled, quality.reindex(labelled.index), feats, seed=seed) if feats else None
    if model is not None:
        numbers["model"] = {"n": model.n, "folds": model.folds, "r2": model.r2, "r2_std": model.r2_std,
                            "spearman": model.spearman, "features": len(model.features),
                            "importances": model.importances.to_dict("records")}
    sections.append(("What predicts quality", _model_section(model, labels, use_rendered)))

    out_cols = analysis.model_features(d, rendered=True)
    outl = analysis.outliers(d, out_cols, seed=seed)
    numbers["outliers"] = [{"file": d.loc[i, "rel_path"], "score": s, "why": w} for i, s, w in
                           zip(outl.get("index", []), outl.get("score", []), outl.get("why", []))]
    sections.append(("Outliers", _outlier_section(d, outl, dataset)))

    try:
        fitted = fit_bands(df)["features"] if len(healthy) else None
    except BandsError:
        fitted = None
    numbers["bands_fitted"] = fitted
    numbers["bands_in_use"] = {k: {"statistic": s, "band": list(b)} for k, (s, b) in FEATURES.items()}
    numbers["bands_mismatch"] = settings_mismatch(meta) if meta else "no meta.json"
    if len(healthy):
        sections.append(("Fitness bands", _bands_section(healthy, FEATURES, fitted, numbers["bands_mismatch"])))
    return numbers, sections


def _correlation_columns(d: pd.DataFrame, diff: pd.DataFrame) -> list[str]:
    params = [c for c in (list(diff["feature"]) if len(diff) else []) if c.startswith("param_")][:14]
    stats = [c for c in d.columns if c.startswith(("stat_", "desc_")) and d[c].notna().any()]
    return [c for c in params + stats if d[c].nunique(dropna=True) > 1]


# ---------------------------------------------------------------- html pieces


def _p(text: str) -> str:
    return f"<p class='note'>{html.escape(text)}</p>"


def _figure(fig) -> str:
    return fig.to_html(full_html=False, include_plotlyjs=False, config={"displaylogo": False, "responsive": True})


def _table(rows: list[dict], columns: list[tuple[str, str]], cls: str = "") -> str:
    head = "".join(f"<th>{html.escape(label)}</th>" for _, label in columns)
    body = []
    for r in rows:
        cells = []
        for key, _ in columns:
            v = r.get(key)
            cells.append(f"<td>{_cell(v)}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    return f"<table class='{cls}'><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def _cell(v) -> str:
    if v is None or (isinstance(v, float) and not math.isfinite(v)):
        return "<span class='dim'>—</span>"
    if isinstance(v, bool):
        return "yes" if v else "no"
    if isinstance(v, float):
        return f"{v:.3g}" if abs(v) < 1e5 else f"{v:.3e}"
    if isinstance(v, (list, tuple)):
        return ", ".join(_cell(x) for x in v)
    return html.escape(str(v))


def _thumb(dataset, row, caption: str, size: int = 96, label: bool = True) -> str:
    """The preset's animated preview (its thumbnail without one), inlined."""
    p = media_path(dataset, row.get("render_preview")) or media_path(dataset, row.get("render_thumb"))
    title = html.escape(caption, quote=True)
    span = f"<span>{title}</span>" if label else ""
    if p is None:
        return f"<div class='tile'><div class='noimg' style='width:{size}px;height:{size}px'>no render</div>{span}</div>"
    mime = "image/webp" if p.suffix == ".webp" else "image/png"
    data = base64.b64encode(p.read_bytes()).decode("ascii")
    return (f"<div class='tile'><img src='data:{mime};base64,{data}' width='{size}' height='{size}' title='{title}' "
            f"alt='{title}'/>{span}</div>")


def _gallery(dataset, rows: pd.DataFrame, caption) -> str:
    return "<div class='gallery'>" + "".join(_thumb(dataset, r, caption(r)) for _, r in rows.iterrows()) + "</div>"


def _overview(df, d, meta, numbers) -> str:
    c = numbers["counts"]
    cards = [("files", c["rows"]), ("parse errors", c["parse_errors"]), ("distinct presets", c["distinct"]),
             ("duplicates", c["duplicates"]), ("rendered", c["rendered"]), ("render errors", c["render_errors"]),
             ("degenerate", sum(c["degenerate"].values())), ("healthy", c["healthy"])]
    out = "<div class='cards'>" + "".join(f"<div class='card'><b>{v:,}</b><span>{k}</span></div>" for k, v in cards) + "</div>"
    render = (meta.get("render") or {})
    out += _p(f"Render: {render.get('described', 'none (mined with --no-render)')}; versions {render.get('versions', {})}. "
              f"Inputs: {', '.join(meta.get('inputs', []))}. Mined {meta.get('written', '?')}.")
    if c["degenerate"]:
        out += _p("Degenerate renders by reason: " + ", ".join(f"{k} {v}" for k, v in sorted(c["degenerate"].items())) + ".")
    folders = d["folder"].value_counts().head(12)
    out += _table([{"folder": k, "n": int(v)} for k, v in folders.items()], [("folder", "folder"), ("n", "presets")], "narrow")
    errs = df[df["error"].notna()].head(20)
    if len(errs):
        out += "<h3>Files that do not parse</h3>" + _table(
            [{"file": r.rel_path, "line": None if pd.isna(r.error_line) else int(r.error_line), "error": r.error}
             for r in errs.itertuples()], [("file", "file"), ("line", "line"), ("error", "error")])
    return out


def _labels_section(d, labels: Labels, numbers, dataset) -> str:
    L = numbers["labels"]
    out = _p(f"Quality used below: {L['used']}. Each source is put on 0..1 (fRating / 5, other scales min-max) and a "
             f"preset's quality is the mean of the human sources it has. Good = quality at or above the "
             f"{100 * GOOD_QUANTILE:.0f}th percentile ({_cell(L['good_threshold'])}): {L['good']} of {L['labelled']} labelled presets.")
    if labels.fallback:
        out += "<p class='warn'>Too few human labels: the analysis ranks presets by the machine score of the dataset's " \
               "own render, which says what the fitness likes, not what people like. Add --ratings or --runs.</p>"
    out += _table(L["sources"], [("name", "source"), ("kind", "kind"), ("presets", "presets"), ("files", "files"),
                                 ("distinct_values", "distinct values"),
                                 ("min", "min"), ("max", "max"), ("mean", "mean"), ("unmatched", "unmatched entries"), ("note", "note")])
    if L["agreement"]:
        out += "<h3>Agreement between sources</h3>" + _table(
            L["agreement"], [("a", "source"), ("b", "source"), ("overlap", "presets in both"), ("spearman", "Spearman rho")], "narrow")
    fig = figures.label_histograms(labels.sources)
    if fig is not None:
        out += _figure(fig)
    q = labels.quality.reindex(d.index).dropna().sort_values(ascending=False, kind="stable")
    if len(q):
        top = d.loc[q.index[:GALLERY]]
        out += "<h3>Highest quality</h3>" + _gallery(dataset, top, lambda r: f"{q[r.name]:.2f} · {Path(r.rel_path).stem}")
        low = d.loc[q.index[::-1][:12]]
        out += "<h3>Lowest quality</h3>" + _gallery(dataset, low, lambda r: f"{q[r.name]:.2f} · {Path(r.rel_path).stem}")
    if "desc_motion" in d and d["desc_motion"].notna().any():
        out += "<h3>Where the presets sit</h3>" + _figure(figures.descriptor_map(d, labels.quality)) + _p(
            "Each rendered preset by its motion and brightness descriptors (evo.fitness.descriptors), coloured by quality.")
    return out


def _distribution_section(labelled, good, diff: pd.DataFrame) -> str:
    if diff.empty:
        return _p("No labelled presets with features to compare.")
    ks = dict(zip(diff["feature"], diff["ks"]))
    params = [f for f in diff["feature"] if f.startswith("param_")][:16]
    others = [f for f in diff["feature"] if not f.startswith("param_")][:8]
    g = good.reindex(labelled.index)
    out = _p("The parameters whose distribution differs most between the good presets and all labelled ones "
             "(Kolmogorov-Smirnov distance; histograms normalised per group, 1st-99th percentile shown).")
    if params:
        out += _figure(figures.distributions(labelled, g, params, ks))
    if others:
        out += "<h3>Code, shaders, counts and rendered features</h3>" + _figure(figures.distributions(labelled, g, others, ks))
    out += "<details><summary>Every feature, by KS distance</summary>" + _table(
        diff.to_dict("records"), [("feature", "feature"), ("ks", "KS"), ("median_good", "median good"),
                                  ("median_other", "median other")], "narrow") + "</details>"
    return out


def _golden_section(singles, pairs, labelled, good) -> str:
    base = float(good.reindex(labelled.index).fillna(False).mean()) if len(labelled) else 0.0
    out = _p(f"Pairs of parameter conditions (a parameter in one of its tertiles, or a count) that go with good "
             f"presets, and the single conditions on any feature that do most; among labelled presets: "
             f"support = share of presets meeting them, confidence = share of those that are good (overall "
             f"{base:.0%}), lift = confidence / overall share; p = chance of that many good or more if the condition "
             f"did not matter (hypergeometric). A pair is kept only when it is good more often than its better half "
             f"alone explains (binomial p < 0.01).")
    cols = [("rule", "conditions"), ("count", "presets"), ("good", "good"), ("support", "support"),
            ("confidence", "confidence"), ("lift", "lift"), ("p_value", "p")]

    def rows(rules):
        return [{"rule": " AND ".join(r.items), "count": r.count, "good": r.good, "support": r.support,
                 "confidence": r.confidence, "lift": r.lift, "p_value": r.p_value} for r in rules]

    out += "<h3>Parameter pairs</h3>" + (_table(rows(pairs), cols) if pairs else _p("No pair beats its parts with enough support."))
    out += "<h3>Single conditions</h3>" + (_table(rows(singles), cols) if singles else _p("None with enough support."))
    return out


def _model_section(model, labels: Labels, use_rendered: bool) -> str:
    if model is None:
        return _p("Too few labelled presets for a model.")
    what = "parameters, code and shader sizes, image statistics and descriptors" if use_rendered else \
        "parameters, code and shader sizes (not the image statistics: the label is the machine score made from them)"
    out = "<div class='cards'>" + "".join(
        f"<div class='card'><b>{v}</b><span>{k}</span></div>" for k, v in (
            ("cross-validated R²", f"{model.r2:.2f} ± {model.r2_std:.2f}"), ("Spearman of predictions", f"{model.spearman:.2f}"),
            ("labelled presets", model.n), ("features", len(model.features)))) + "</div>"
    out += _p(f"A gradient-boosting regressor of quality from {what}, {model.folds}-fold cross-validated "
              "(R² 0 = no better than guessing the mean). Importances: the drop in R² on held-out presets when a feature's "
              "values are shuffled (mean ± sd of 5 shuffles); a feature the model cannot use scores about 0.")
    out += _figure(figures.importances(model.importances))
    return out


def _outlier_section(d, outl: pd.DataFrame, dataset) -> str:
    if outl.empty:
        return _p("Too few presets to look for outliers.")
    out = _p("The presets least like the rest of the collection (an isolation forest over parameters, sizes and "
             "rendered statistics, each as its distance from the median in interquartile ranges, log-squashed), with the features where each sits furthest from the median.")
    rows = []
    for i, s, why in zip(outl["index"], outl["score"], outl["why"]):
        r = d.loc[i]
        rows.append(f"<div class='outlier'>{_thumb(dataset, r, r['rel_path'], 80, label=False)}<div><b>{html.escape(str(r['rel_path']))}</b>"
                    f"<br><span class='dim'>outlier score {s:.2f}</span><br>{html.escape(why)}</div></div>")
    return out + "<div class='outliers'>" + "".join(rows) + "</div>"


def _bands_section(healthy, current, fitted, mismatch) -> str:
    out = _p("Each score feature's image statistic over the healthy presets, with the band the score uses now "
             "(dashed) and the band fitted from this dataset (solid: middle 60% scores 1, outer 2% 0; reactivity "
             "more-is-better, flicker less-is-better).")
    if mismatch:
        out += f"<p class='warn'>This dataset was rendered at other settings than the fitness ({html.escape(mismatch)}): " \
               f"size-dependent statistics (edge density, compressibility) shift, so its fitted bands are not the " \
               f"fitness's. `liandan bands` refuses it unless forced.</p>"
    out += _figure(figures.bands(healthy, current, fitted))
    rows = [{"feature": n, "statistic": s, "in_use": list(b), "fitted": fitted[n]["band"] if fitted and n in fitted else None}
            for n, (s, b) in current.items()]
    return out + _table(rows, [("feature", "feature"), ("statistic", "statistic"), ("in_use", "band in use"),
                               ("fitted", "fitted here")], "narrow")


def _safe_ranges_section(doc: dict) -> str:
    rows = []
    for k, e in doc["params"].items():
        rows.append({"param": k, "lo": e["lo"], "hi": e["hi"], "typical": e["typical"], "limits": e["limits"], "n": e["n"],
                     "from": e["from"], "di": e.get("degenerate_inside"), "do": e.get("degenerate_outside")})
    out = _p("Where healthy presets put each numeric parameter (" + doc["source"]["rule"] + "). Written to "
             "safe_ranges.json beside this report; `liandan evolve --safe-ranges safe_ranges.json` (or ga.safe_ranges in "
             "a config) sizes mutation steps by the typical range, never takes a value further out of [lo, hi] than it "
             "was, and makes repair clamp into the limits. The last two columns: share of presets rendering degenerate "
             "with the value inside / outside [lo, hi].")
    return out + _table(rows, [("param", "parameter"), ("lo", "lo"), ("hi", "hi"), ("typical", "typical"),
                               ("limits", "limits"), ("n", "presets"), ("from", "from"), ("di", "degenerate inside"),
                               ("do", "degenerate outside")], "narrow")


_CSS = """
body{background:#0e1013;color:#d8dee9;font-family:Inter,Segoe UI,Helvetica,Arial,sans-serif;margin:0}
main{max-width:1280px;margin:0 auto;padding:24px 32px 80px}
h1{font-weight:600;margin:8px 0 4px}h1 small{color:#8a94a6;font-weight:400;font-size:15px}
h2{margin:40px 0 8px;padding-top:12px;border-top:1px solid #262b33;font-weight:600;color:#fff}
h3{margin:22px 0 8px;font-weight:600;color:#c8d0dc}
nav{position:sticky;top:0;background:#0e1013ee;padding:10px 0;z-index:5;border-bottom:1px solid #262b33}
nav a{color:#8ab4ff;margin-right:16px;text-decoration:none;font-size:14px}
.note{color:#a3acb9;max-width:980px;line-height:1.5}.warn{color:#ffb86b;max-width:980px}
.dim{color:#6b7280}
.cards{display:flex;flex-wrap:wrap;gap:12px;margin:14px 0}
.card{background:#171b21;border:1px solid #262b33;border-radius:8px;padding:12px 16px;min-width:120px}
.card b{display:block;font-size:22px;color:#fff}.card span{color:#8a94a6;font-size:12px}
table{border-collapse:collapse;margin:10px 0;font-size:13px;width:100%}
table.narrow{width:auto}
th{background:#171b21;text-align:left;color:#9aa4b2;font-weight:600}
th,td{padding:5px 10px;border-bottom:1px solid #222730;vertical-align:top}
tr:hover td{background:#151920}
.gallery{display:flex;flex-wrap:wrap;gap:10px}
.tile{width:112px;font-size:10px;color:#8a94a6;word-break:break-word}
.tile img,.noimg{display:block;border-radius:6px;background:#000;margin-bottom:3px}
.noimg{display:flex;align-items:center;justify-content:center;color:#555}
.outliers{display:grid;grid-template-columns:repeat(auto-fill,minmax(380px,1fr));gap:12px}
.outlier{display:flex;gap:10px;background:#151920;border-radius:8px;padding:8px;font-size:12px}
.outlier .tile{width:84px;flex:none}
details summary{cursor:pointer;color:#8ab4ff;margin:10px 0}
"""


def _page(meta, numbers, sections, dataset) -> str:
    from plotly.offline import get_plotlyjs

    nav = "".join(f"<a href='#s{i}'>{html.escape(t)}</a>" for i, (t, _) in enumerate(sections))
    body = "".join(f"<section id='s{i}'><h2>{html.escape(t)}</h2>{h}</section>" for i, (t, h) in enumerate(sections))
    title = f"Corpus report · {numbers['counts']['distinct']:,} presets"
    return (f"<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>{html.escape(title)}</title>"
            f"<meta name='viewport' content='width=device-width, initial-scale=1'><style>{_CSS}</style>"
            f"<script type='text/javascript'>{get_plotlyjs()}</script></head><body><main>"
            f"<h1>liandan corpus report <small>{html.escape(str(dataset_dir(dataset).resolve()))}</small></h1>"
            f"<nav>{nav}</nav>{body}</main></body></html>")
