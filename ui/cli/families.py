"""``liandan cluster``, ``liandan cluster assign``, ``liandan map`` and ``liandan similar``: style
families of a mined dataset, the 2-D style map with its gaps, and where one preset belongs
(the work is in evo.families)."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import List, Optional

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table
from typer.core import TyperGroup

from ui.cli.mining import EXIT_BAD_INPUT, _progress

DATASET_ENV = "LIANDAN_DATASET"


class _DatasetFirstGroup(TyperGroup):
    """``liandan cluster DATASET`` runs the clustering; ``liandan cluster assign X.milk`` the
    subcommand: a first word that names no subcommand is the dataset of ``run``."""

    def parse_args(self, ctx, args):
        if args and args[0] not in self.commands and args[0] not in ("--help", "-h"):
            args = ["run", *args]
        return super().parse_args(ctx, args)


def _default_dataset() -> Path:
    return Path(os.environ.get(DATASET_ENV, "ds"))


def _fail(err: Console, exc: Exception) -> None:
    err.print(f"[red]error[/] {escape(str(exc))}")
    raise typer.Exit(EXIT_BAD_INPUT) from None


def _pct(v) -> str:
    return "–" if v is None else f"{v:.0%}"


def _num(v, fmt: str = ".3f") -> str:
    return "–" if v is None or v != v else format(v, fmt)


def print_cluster_report(err: Console, r) -> None:
    err.print(f"feature space: {escape(r.space)}; {r.points} presets clustered"
              + (f" (left out: {', '.join(f'{v} {k}' for k, v in r.left_out.items())})" if r.left_out else ""))
    t = Table(title="parameters tried (chosen by stability)", title_justify="left")
    for col in ("min_cluster_size", "min_samples", "families", "noise", "stability (ARI)", ""):
        t.add_column(col, justify="right")
    for c in r.candidates:
        t.add_row(str(c["min_cluster_size"]), str(c["min_samples"]), str(c["families"]), _pct(c["noise"]),
                  f"{_num(c['stability'])} ± {_num(c['stability_std'], '.2f')}", "chosen" if c.get("chosen") else "")
    err.print(t)
    q = r.quality
    line = (f"[bold]{q['families']} families[/], noise {_pct(q['noise'])}, stability (ARI over half-sample refits) "
            f"{_num(q.get('stability_ari'))} ± {_num(q.get('stability_ari_std'), '.2f')}")
    if q.get("nmi_folders") is not None:
        line += (f", NMI with the {q['folders']} folder names {_num(q['nmi_folders'])} "
                 f"({_num(q.get('nmi_folders_clustered'))} without noise)")
    err.print(line)
    ft = Table(title="families", title_justify="left")
    for col in ("id", "presets", "label", "main folders"):
        ft.add_column(col, justify="right" if col == "presets" else "left")
    for f in r.families:
        ft.add_row(f"F{f['id']}", f"{f['size']}" + (f" ({f['files']} files)" if f["files"] != f["size"] else ""),
                   escape(f["label"]), escape(", ".join(f"{a} {n}" for a, n in f["folders"])))
    err.print(ft)
    err.print(f"{r.bridges} bridge presets between two families" + (" (share of their neighbours in each):" if r.bridges else ""))
    for b in r.bridge_examples:
        (a, c), (sa, sc) = b["families"], b["shares"]
        err.print(f"  F{a} {sa:.0%} / F{c} {sc:.0%}  {escape(b['rel_path'])}")
    err.print(f"{r.seconds['total']:.1f} s (choosing the parameters {r.seconds['cluster']:.1f} s)")
    for what, path in r.files.items():
        err.print(f"  {what:<8} [bold]{escape(path)}[/]")


def register(app: typer.Typer) -> None:
    cluster = typer.Typer(cls=_DatasetFirstGroup, no_args_is_help=True,
                          help="Style families of a dataset: `liandan cluster DATASET` finds them, "
                               "`liandan cluster assign X.milk -d DATASET` places a preset.")
    app.add_typer(cluster, name="cluster")

    @cluster.command("run", help="Find the style families of DATASET (made by `liandan mine`) and save them in "
                                 "DATASET/style/: families.json, members.csv, the family sheet and the style tree.")
    def cluster_cmd(
        dataset: Path = typer.Argument(..., help="a dataset folder made by `liandan mine`", show_default=False),
        features: Optional[str] = typer.Option(None, "--features", "-f", show_default="all",
                                               help="feature groups, comma-separated: look (rendered statistics and "
                                                    "descriptors), params (parameters, waves, shapes, shader flags), "
                                                    "code; or all (the default; params,code for an unrendered dataset)"),
        seed: int = typer.Option(0, "--seed", help="seed of the resamples (same seed, same families)"),
        min_cluster_size: Optional[int] = typer.Option(None, "--min-cluster-size", min=2,
                                                       help="fix HDBSCAN's smallest family (default: chosen by stability)"),
        min_samples: Optional[int] = typer.Option(None, "--min-samples", min=1, help="with --min-cluster-size"),
        resamples: int = typer.Option(4, "--resamples", min=0, max=50, help="half-sample refits per setting"),
        include_degenerate: bool = typer.Option(False, "--include-degenerate",
                                                help="also cluster presets whose mining render was black or frozen"),
        pictures: bool = typer.Option(True, "--pictures/--no-pictures", help="draw the family sheet and the style tree"),
        as_json: bool = typer.Option(False, "--json", help="print the report as JSON on stdout"),
    ) -> None:
        from evo.families.build import cluster_dataset
        from evo.families.features import FeatureError
        from evo.mining.dataset import DatasetError

        err = Console(stderr=True)
        bar, update = _progress(err)
        try:
            with bar:
                report = cluster_dataset(dataset, features, seed=seed, min_cluster_size=min_cluster_size,
                                         min_samples=min_samples, resamples=resamples,
                                         include_degenerate=include_degenerate, pictures=pictures, progress=update)
        except (DatasetError, FeatureError, ValueError) as exc:
            _fail(err, exc)
        if as_json:
            typer.echo(json.dumps(report.to_dict(), indent=1))
            return
        print_cluster_report(err, report)

    @cluster.command("assign", help="Which family a preset belongs to (a new file is rendered like the dataset).")
    def assign_cmd(
        files: List[Path] = typer.Argument(..., help=".milk files", show_default=False),
        dataset: Path = typer.Option(_default_dataset(), "--dataset", "-d", help=f"dataset folder (default: ${DATASET_ENV} or ds)"),
        as_json: bool = typer.Option(False, "--json", help="print JSON on stdout"),
    ) -> None:
        from evo.families.build import assign_files
        from evo.mining.dataset import DatasetError

        err = Console(stderr=True)
        try:
            rows = assign_files(dataset, files)
        except DatasetError as exc:
            _fail(err, exc)
        if as_json:
            typer.echo(json.dumps(rows, indent=1))
            return
        for r in rows:
            where = "already in the dataset" if r["known"] else "new, rendered now"
            if r["family"] >= 0:
                err.print(f"{escape(r['file'])}: [bold]F{r['family']}[/] {escape(r['label'])}  ({where}; "
                          f"reach {r['reach']:.2f} within the family's {r['radius']:.2f}, via {escape(r['via'])})")
            else:
                near = f"F{r['nearest_family']} {r['nearest_label']}" if r["nearest_family"] >= 0 else "noise"
                err.print(f"{escape(r['file'])}: [bold]no family[/] ({where}); nearest {escape(near)} at reach "
                          f"{r['reach']:.2f}, its radius {_num(r['radius'], '.2f')}")

    @app.command("map")
    def map_cmd(
        dataset: Path = typer.Argument(..., help="a dataset folder made by `liandan mine`", show_default=False),
        method: str = typer.Option("umap", "--method", help="umap or tsne"),
        seed: int = typer.Option(0, "--seed", help="seed of the embedding (same seed, same map)"),
        neighbors: int = typer.Option(15, "--neighbors", min=2, help="UMAP n_neighbors"),
        min_dist: float = typer.Option(0.3, "--min-dist", min=0.0, max=1.0, help="UMAP min_dist"),
        perplexity: float = typer.Option(30.0, "--perplexity", min=2.0, help="t-SNE perplexity"),
        pictures: bool = typer.Option(True, "--pictures/--no-pictures", help="draw the atlas"),
        as_json: bool = typer.Option(False, "--json", help="print the report as JSON on stdout"),
    ) -> None:
        """Lay DATASET's presets out on a 2-D style map (clustering it first if needed), find the
        gaps in it, and draw the atlas: DATASET/style/map.json and atlas.png."""
        from evo.families.build import cluster_dataset, map_dataset
        from evo.families.saved import has_families
        from evo.mining.dataset import DatasetError

        err = Console(stderr=True)
        if method not in ("umap", "tsne"):
            raise typer.BadParameter("--method must be umap or tsne")
        try:
            if not has_families(dataset):
                err.print("no families yet: clustering first (liandan cluster, default settings)")
                bar, update = _progress(err)
                with bar:
                    report = cluster_dataset(dataset, seed=seed, progress=update)
                if not as_json:
                    print_cluster_report(err, report)
            with err.status(f"laying out the map ({method})…"):
                m = map_dataset(dataset, method=method, seed=seed, n_neighbors=neighbors, min_dist=min_dist,
                                perplexity=perplexity, pictures=pictures)
        except (DatasetError, ValueError) as exc:
            _fail(err, exc)
        if as_json:
            typer.echo(json.dumps(m.to_dict(), indent=1))
            return
        err.print(f"{m.points} presets on a {m.method} map; trustworthiness {m.trustworthiness:.3f} "
                  f"(1 = every map neighbour is a feature-space neighbour); {m.seconds['total']:.1f} s")
        t = Table(title=f"{len(m.gaps)} gaps (empty regions inside the populated area; map units 0..1)",
                  title_justify="left")
        for col in ("gap", "x", "y", "radius", "neighbouring families", "nearest presets"):
            t.add_column(col)
        for g in m.gaps:
            t.add_row(g["id"], f"{g['x']:.3f}", f"{g['y']:.3f}", f"{g['radius']:.3f}",
                      ", ".join(f"{f} ({n})" for f, n in g["families"][:4]) or "noise",
                      escape("; ".join(g["nearest"][:2])))
        err.print(t)
        for what, path in m.files.items():
            err.print(f"  {what:<6} [bold]{escape(path)}[/]")

    @app.command("similar")
    def similar_cmd(
        file: Path = typer.Argument(..., help="a .milk file", show_default=False),
        dataset: Path = typer.Option(_default_dataset(), "--dataset", "-d", help=f"dataset folder (default: ${DATASET_ENV} or ds)"),
        k: int = typer.Option(10, "--k", "-k", min=1, max=1000, help="how many"),
        as_json: bool = typer.Option(False, "--json", help="print JSON on stdout"),
    ) -> None:
        """The presets nearest in style to FILE (in the families' feature space of DATASET)."""
        from evo.families.build import similar_to
        from evo.mining.dataset import DatasetError

        err = Console(stderr=True)
        try:
            table = similar_to(dataset, file, k)
        except DatasetError as exc:
            _fail(err, exc)
        if as_json:
            typer.echo(table.to_json(orient="records", indent=1))
            return
        t = Table(title=f"{len(table)} presets most like {file.name}", title_justify="left")
        for col in ("#", "distance", "family", "preset"):
            t.add_column(col)
        for i, r in table.iterrows():
            fam = "noise" if r["family"] < 0 else f"F{r['family']} {r['label']}"
            t.add_row(str(i + 1), f"{r['distance']:.3f}", escape(fam), escape(r["rel_path"]))
        err.print(t)
