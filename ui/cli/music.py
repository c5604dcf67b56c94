"""``liandan listen / match / breathe / suggest``: songs, and presets chosen, tuned and made for them."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Optional

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from ui.cli.options import parse_wh

EXIT_BAD_INPUT = 2


def _fail(message: str) -> None:
    Console(stderr=True).print(f"[red]error[/] {escape(message)}")
    raise typer.Exit(EXIT_BAD_INPUT)


def _bar(console: Console) -> Progress:
    return Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
                    console=console, transient=True)


def _analyze(song: Path, err: Console):
    from evo.music.analysis import SongError, analyze_song

    if not song.is_file():
        _fail(f"{song}: no such audio file")
    with _bar(err) as bar:
        task = bar.add_task(f"listening to {escape(song.name)}", total=1000)
        try:
            return analyze_song(song, lambda done, total: bar.update(task, completed=int(1000 * done / total)))
        except SongError as exc:
            _fail(str(exc))


def listen(
    song: Path = typer.Argument(..., help="Music file (WAV/FLAC/OGG/MP3)."),
    plot: Optional[Path] = typer.Option(None, "--plot", help="Write the picture here (default: SONG.png beside it, "
                                        "or in the current folder if that is not writable)."),
    as_json: bool = typer.Option(False, "--json", help="Print the summary as JSON."),
) -> None:
    """Tempo, beats, energy and sections of a song, and a plot of them."""
    from evo.music.song_plot import song_figure_png
    from renderer.output.files import atomic_write_bytes

    err = Console(stderr=True)
    a = _analyze(song, err)
    out = plot or Path(song.stem + ".png")
    atomic_write_bytes(out, song_figure_png(a))
    if as_json:
        typer.echo(json.dumps({**a.summary(), "plot": str(out)}, indent=1))
        return
    console = Console()
    console.print(f"[bold]{escape(song.name)}[/]  {a.duration:.1f} s, [bold]{a.tempo:.1f} BPM[/], {len(a.beats)} beats")
    t = Table("section", "from", "to", "energy", "kind", "beat strength")
    for k, s in enumerate(a.sections, 1):
        t.add_row(str(k), f"{s.start:.1f}", f"{s.end:.1f}", f"{s.energy:.2f}", s.label, f"{s.beat_strength:.1f}")
    console.print(t)
    console.print(f"plot: {out}")


def _candidates(presets: Path, err: Console, cache: Path | None, workers: int, limit: int | None):
    """Match candidates from a mining dataset (its react_ columns) or a folder (profiled, cached)."""
    from evo.mining.dataset import DATASET_FILE, DatasetError, load_dataset
    from evo.music.dataset_group import candidates_from_dataset
    from evo.music.profiles import DEFAULT_CACHE, ProfileCache, candidates_from_folder
    from renderer.milk.files import find_presets

    if presets.suffix == ".parquet" or (presets / DATASET_FILE).is_file():
        try:
            found, missing = candidates_from_dataset(load_dataset(presets))
        except DatasetError as exc:
            _fail(str(exc))
        if not found:
            _fail(f"{presets}: no reactivity profiles in this dataset: mine it with `liandan mine ... --reactivity`")
        return found[: limit or None], {f"{missing} rows": "no profile"} if missing else {}
    store = ProfileCache(cache or DEFAULT_CACHE)
    try:
        with _bar(err) as bar:
            task = bar.add_task("profiling presets", total=min(len(find_presets(presets)), limit or 10**9))
            return candidates_from_folder(presets, store, workers, limit, lambda p: bar.advance(task))
    finally:
        store.close()


def match(
    song: Path = typer.Argument(..., help="Music file."),
    presets: Path = typer.Option(..., "--presets", help="Folder of .milk presets (each profiled once, cached), or a "
                                 "dataset mined with --reactivity."),
    top: int = typer.Option(10, "--top", "-k", help="How many to list for the song and per section."),
    playlist: Optional[Path] = typer.Option(None, "--playlist", help="Write a set here: cues.json + presets/ in play order."),
    video: Optional[Path] = typer.Option(None, "--video", help="Render the set to this .mp4, with the song's audio."),
    size: str = typer.Option("512x512", "--size", help="Video size WIDTHxHEIGHT."),
    fps: float = typer.Option(30.0, "--fps", min=1.0, help="Video frames per second."),
    seconds: Optional[float] = typer.Option(None, "--seconds", help="Only the first SECONDS of the video."),
    limit: Optional[int] = typer.Option(None, "--limit", help="Only the first N presets of the folder."),
    workers: int = typer.Option(2, "--workers", "-w", min=1, help="Processes that profile presets."),
    cache: Optional[Path] = typer.Option(None, "--cache", help="Profile cache (default ~/.cache/liandan/profiles.sqlite)."),
) -> None:
    """Rank presets for a song and per section, with a reason each; write a set and its video."""
    from evo.music.match import plan_set, rank_section, rank_song, write_playlist

    err = Console(stderr=True)
    if not presets.exists():
        _fail(f"{presets}: no such folder or dataset")
    a = _analyze(song, err)
    candidates, bad = _candidates(presets, err, cache, workers, limit)
    if not candidates:
        _fail(f"{presets}: no preset could be profiled ({len(bad)} failed)")
    console = Console()
    console.print(f"[bold]{escape(song.name)}[/]: {a.tempo:.1f} BPM, {len(a.sections)} sections; "
                  f"{len(candidates)} presets profiled" + (f", {len(bad)} failed" if bad else ""))
    t = Table("#", "preset", "fit", "why", title="For the whole song", title_justify="left")
    for k, f in enumerate(rank_song(a, candidates)[:top], 1):
        t.add_row(str(k), escape(f.candidate.name), f"{f.score:.3f}", escape(f.reason))
    console.print(t)
    for i, s in enumerate(a.sections, 1):
        t = Table("#", "preset", "fit", "why", title=f"Section {i}: {s.start:.0f}-{s.end:.0f} s, {s.label}",
                  title_justify="left")
        for k, f in enumerate(rank_section(s, candidates)[: min(top, 3)], 1):
            t.add_row(str(k), escape(f.candidate.name), f"{f.score:.3f}", escape(f.reason))
        console.print(t)
    cues = plan_set(a, candidates)
    if playlist is not None:
        console.print(f"set: {write_playlist(a, cues, playlist)}")
    if video is not None:
        from evo.music.set_video import render_set_video

        w, h = parse_wh(size)
        with _bar(err) as bar:
            task = bar.add_task("rendering the set", total=None)
            n = render_set_video(song, cues, video, (w, h), fps, seconds=seconds,
                                 progress=lambda done, total: bar.update(task, completed=done, total=total))
        console.print(f"video: {video} ({n} frames, with the song's audio)")


def breathe(
    preset: Path = typer.Argument(..., help="The .milk preset to rewrite (never modified)."),
    song: Path = typer.Option(..., "--song", help="The music it should react to."),
    out: Path = typer.Option(..., "-o", "--out", help="Where to write the rewritten preset."),
) -> None:
    """Rewrite a preset so it reacts to a song's beats, keeping its look; verified by rendering."""
    from evo.music.breathe import FPS, BreatheError
    from evo.music.breathe import breathe as rewrite
    from renderer.audio import AudioAnalyzer, AudioError, open_audio
    from renderer.milk.preset import PresetError, load_milk
    from renderer.output.files import atomic_write_bytes

    err = Console(stderr=True)
    try:
        p = load_milk(preset)
    except PresetError as exc:
        _fail(str(exc))
    a = _analyze(song, err)
    try:
        analyzer = AudioAnalyzer(open_audio(song), fps=FPS)
        with err.status("rendering against the song: before and after"):
            res = rewrite(p, a, analyzer)
    except (BreatheError, AudioError) as exc:
        _fail(str(exc))
    console = Console()
    console.print(f"excerpt {res.excerpt[0]:.1f}-{res.excerpt[1]:.1f} s; before: {res.before.describe()}")
    for strength, prof, why in res.tried:
        console.print(f"  strength {strength:g}: beats hit {prof.beat_alignment:.0%} (chance {prof.chance:.0%})"
                      + (f"  [yellow]rejected: {escape(why)}[/]" if why else ""))
    if res.text is None:
        console.print("[yellow]no rewrite followed the song better; nothing written[/]")
        raise typer.Exit(1)
    atomic_write_bytes(out, res.text.encode("latin-1", errors="replace"))
    console.print(f"[green]wrote[/] {out}: beats hit {res.before.beat_alignment:.0%} -> {res.after.beat_alignment:.0%}, "
                  f"beat lock {res.before.beat_lock:.2f} -> {res.after.beat_lock:.2f} (strength {res.strength:g})")
    for line in res.lines:
        console.print(f"  [dim]+ {escape(line)}[/]")


def suggest(
    song: Path = typer.Argument(..., help="Music file."),
    presets: Path = typer.Option(..., "--presets", help="Folder of real presets to build on (profiled once, cached)."),
    n: int = typer.Option(8, "--n", min=1, help="How many presets to write."),
    out: Path = typer.Option(Path("suggested"), "-o", "--out", help="Folder for the presets and suggestions.json."),
    model: Optional[Path] = typer.Option(None, "--model", help="A trained model (JSON); default: train one now."),
    train_songs: Optional[Path] = typer.Option(None, "--train-songs", help="Folder of songs to learn from "
                                               "(default: Debian's drascula-music when installed)."),
    runs_dir: Optional[Path] = typer.Option(None, "--runs-dir", help="Also learn from runs evolved with --audio."),
    save_model: Optional[Path] = typer.Option(None, "--save-model", help="Keep the trained model here (JSON)."),
    limit: Optional[int] = typer.Option(None, "--limit", help="Only the first N presets of the folder."),
    workers: int = typer.Option(2, "--workers", "-w", min=1),
    cache: Optional[Path] = typer.Option(None, "--cache", help="Profile cache (default ~/.cache/liandan/profiles.sqlite)."),
) -> None:
    """Presets whose parameters a music-to-parameters model predicts for this song, on real
    presets' equations, rendered, checked and ranked like ``match`` ranks presets."""
    from evo.music.analysis import analyze_song
    from evo.music.profiles import DEFAULT_CACHE, ProfileCache, candidates_from_folder
    from evo.music.suggest import (ModelError, MusicToParams, Pairs, pairs_from_matches, pairs_from_runs,
                                   suggest_presets)
    from renderer.milk.files import find_presets
    from renderer.milk.preset import load_milk
    from renderer.output.files import atomic_write_bytes

    err = Console(stderr=True)
    console = Console()
    if not presets.is_dir():
        _fail(f"{presets}: no such folder")
    a = _analyze(song, err)
    store = ProfileCache(cache or DEFAULT_CACHE)
    try:
        with _bar(err) as bar:
            task = bar.add_task("profiling presets", total=min(len(find_presets(presets)), limit or 10**9))
            pool, _bad = candidates_from_folder(presets, store, workers, limit, lambda p: bar.advance(task))
    finally:
        store.close()
    if not pool:
        _fail(f"{presets}: no preset could be profiled")
    if model is not None:
        try:
            m = MusicToParams.load(model)
        except ModelError as exc:
            _fail(str(exc))
    else:
        folder = train_songs or Path("/usr/share/scummvm/drascula/audio")
        songs = sorted(p for p in folder.glob("*") if p.suffix.lower() in (".ogg", ".wav", ".flac", ".mp3"))[:12]
        analysed = [a] + [analyze_song(p) for p in songs if p.resolve() != song.resolve()]
        pairs = pairs_from_matches(analysed, pool, lambda p: load_milk(p).params)
        if runs_dir is not None:
            pairs = pairs_from_runs(runs_dir, pairs=pairs)
        X, Y, w, g = pairs.arrays()
        m = MusicToParams().fit(X, Y, w, g)
        cv = ", ".join(f"{k} {v:.3f}" for k, v in m.cv_.items())
        console.print(f"model: {m.kind_} from {m.n_pairs_} pairs of {m.n_songs_} songs; held-out error "
                      f"(RMSE on typical ranges, leave one song out): {cv}")
        if save_model is not None:
            m.save(save_model)
    with err.status("making, rendering and ranking presets"):
        picks = suggest_presets(a, m, pool, n)
    (out / "presets").mkdir(parents=True, exist_ok=True)
    entries = []
    for k, s in enumerate(picks, 1):
        name = f"{k:02d} - {s.name}.milk".replace("/", "_")
        atomic_write_bytes(out / "presets" / name, s.text.encode("latin-1", errors="replace"))
        entries.append({"file": f"presets/{name}", "section": s.section, "base": s.base, "fit": round(s.fit, 4),
                        "reason": s.reason})
        console.print(f"{k:2d}. {escape(name)}  fit {s.fit:.3f}  [dim]{escape(s.reason)}[/]")
    atomic_write_bytes(out / "suggestions.json", json.dumps({"song": str(song), "presets": entries}, indent=1).encode())
    console.print(f"wrote {len(picks)} presets to {out}")


def register(app: typer.Typer) -> None:
    app.command("listen")(listen)
    app.command("match")(match)
    app.command("breathe")(breathe)
    app.command("suggest")(suggest)
