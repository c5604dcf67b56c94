"""Render many presets in worker processes so that one crash, hang or leak cannot stop the sweep.

Why processes, and why this shape:
- A preset can crash the GL driver or the process (a shader llvmpipe chokes on, memory blow-up),
  or run for ever; a thread cannot be killed, a process can. A worker that dies or overruns its
  per-file timeout is killed, its file reported as an error, and a fresh worker takes its place.
- Workers are started with ``spawn``: a child forked after the parent touched GL hangs on llvmpipe
  (measured on llvmpipe here). Each worker creates its own EGL context and one Renderer reused for every file,
  since building a renderer and JIT-ing its shaders costs more than rendering 30 small frames.
- Results come back in the order of the input paths (buffered), so reports and contact sheets
  are stable whatever the scheduling; progress is the caller's business (it consumes the iterator).
"""

from __future__ import annotations

import os
import time
import warnings
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from multiprocessing import connection as mp_connection
from multiprocessing import get_context

from renderer.output.health import HealthWatch
from renderer.player import player_named

STARTUP_TIMEOUT_S = 120.0
MAX_START_FAILURES = 3


@dataclass(frozen=True)
class SweepConfig:
    frames: int = 30
    size: tuple[int, int] = (64, 64)
    seed: int = 0
    fps: float = 60.0
    mesh: tuple[int, int] = (48, 36)
    keep_frame: int | None = None  # 1-based frame returned as result["image"] (contact sheets)
    audio: str | None = None  # audio file; None = the renderer's default synthetic music
    textures_dir: tuple[str, ...] | None = None  # extra folders searched for shader user textures
    player: str = "milkdrop2"  # whose picture (renderer.player)


def error_result(path: str, message: str) -> dict:
    return {"file": path, "status": "error", "error": message, "black": False, "frozen": False,
            "shader_failed": False, "shader_errors": [], "stages": {}, "code_errors": [], "warnings": [],
            "frames": 0, "seconds": 0.0}


def shader_error_records(report) -> list[dict]:
    """``report.shader_errors`` as plain dicts: stage, reason (with the GLSL compiler log), line,
    and ``frame`` when the stage failed while rendering rather than at load."""
    out = []
    for e in getattr(report, "shader_errors", None) or []:
        rec = {"stage": str(e.get("stage")), "reason": str(e.get("reason")),
               "line": None if e.get("line") is None else int(e["line"])}
        if e.get("frame") is not None:
            rec["frame"] = int(e["frame"])
        out.append(rec)
    return out


def code_error_records(preset, equations) -> list[dict]:
    """The EEL blocks that did not compile (they render empty), pointing into the file.

    Read from the renderer's own compiled equations, so nothing is compiled twice."""
    out = []
    for e in getattr(equations, "errors", None) or []:
        section = str(getattr(e, "section", "?"))
        line = getattr(e, "line", 0) or None
        file_line = None
        if line and hasattr(preset, "section_key"):
            try:
                file_line = preset.line_of.get(preset.section_key(section, line))
            except (KeyError, ValueError, AttributeError):
                file_line = None
        out.append({"section": section, "line": line, "file_line": file_line,
                    "col": getattr(e, "col", 0) or None, "error": str(getattr(e, "message", e))})
    return out


def other_report_errors(report, equations) -> list[str]:
    """Messages in ``report.errors`` that are neither EEL nor shader-stage errors (e.g. a blur
    pass that failed): the preset still rendered, so they are reported as warnings."""
    known = {str(e) for e in getattr(equations, "errors", None) or []}
    shader_prefixes = tuple(f"{e.get('stage')} shader:" for e in getattr(report, "shader_errors", None) or [])
    return [m for m in map(str, report.errors)
            if m not in known and not (shader_prefixes and m.startswith(shader_prefixes))]


# --------------------------------------------------------------------------- worker side


def _renderer(cache: dict, config: SweepConfig):
    if "renderer" not in cache:
        from renderer.pipeline import Renderer

        w, h = config.size
        cache["renderer"] = Renderer(width=w, height=h, mesh=config.mesh, fps=config.fps, seed=config.seed,
                                     textures_dir=list(config.textures_dir) if config.textures_dir else None,
                                     player=config.player)
    return cache["renderer"]


def _audio(cache: dict, config: SweepConfig):
    if config.audio is None:
        return None
    if "audio" not in cache:
        from renderer.audio import AudioAnalyzer, open_audio

        cache["audio"] = AudioAnalyzer(open_audio(config.audio), fps=config.fps)
    return cache["audio"]


def render_file(path: str, config: SweepConfig, cache: dict) -> dict:
    """Render one preset (the default job). Errors inside become an error result, never raise."""
    from renderer.milk.preset import load_milk

    try:
        preset = load_milk(path)
    except (OSError, ValueError) as exc:
        return error_result(path, str(exc))
    r = _renderer(cache, config)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")  # per file, not once per process
        out = _render_loaded(path, preset, r, config, cache)
    seen = dict.fromkeys(f"{w.category.__name__}: {w.message} ({os.path.basename(w.filename)}:{w.lineno})"
                         for w in caught)
    if out["status"] == "rendered":
        out["warnings"].extend(seen)
    return out


def _render_loaded(path: str, preset, r, config: SweepConfig, cache: dict) -> dict:
    """Python warnings (numpy overflow in a cast, ...) raised here end up in the result's
    ``warnings`` instead of on the worker's stderr, where they would garble progress bars."""
    try:
        report = r.load(preset)
        watch = HealthWatch(config.frames)
        image = None
        n = 0
        for n, frame in enumerate(r.render(config.frames, _audio(cache, config)), 1):
            watch.add(n, frame)
            if n == config.keep_frame:
                image = frame.copy()
    except Exception as exc:  # the renderer may be left half-way: build a fresh one next time
        cache.pop("renderer").release()
        return error_result(path, f"{type(exc).__name__}: {exc}")
    black, frozen = watch.result()
    shader_errors = shader_error_records(report)  # after rendering: render-time failures are in too
    out = {"file": path, "status": "rendered", "error": None, "black": black, "frozen": frozen,
           "shader_failed": bool(shader_errors), "shader_errors": shader_errors,
           "stages": {str(k): str(v) for k, v in (getattr(report, "stages", None) or {}).items()},
           "code_errors": code_error_records(preset, r.equations),
           "warnings": [str(w) for w in getattr(report, "warnings", None) or []]
           + other_report_errors(report, r.equations),
           "frames": n}
    if config.keep_frame is not None:
        out["image"] = image
    return out


def _worker_main(conn, config: SweepConfig, job: Callable | None) -> None:
    os.environ.setdefault("LP_NUM_THREADS", "0")
    cache: dict = {}
    try:
        if job is None:
            job = render_file
            try:
                _renderer(cache, config)
            except Exception as exc:
                conn.send(("fatal", f"cannot start a renderer: {type(exc).__name__}: {exc}"))
                return
        conn.send(("ready", os.getpid()))
        while True:
            msg = conn.recv()
            if msg is None:
                break
            idx, path = msg
            t0 = time.perf_counter()
            try:
                result = job(path, config, cache)
            except Exception as exc:
                result = error_result(path, f"{type(exc).__name__}: {exc}")
            result["seconds"] = time.perf_counter() - t0
            conn.send(("result", idx, result))
    except (EOFError, BrokenPipeError, KeyboardInterrupt):
        pass
    finally:
        r = cache.get("renderer")
        if r is not None:
            r.release()


# --------------------------------------------------------------------------- parent side


class _Worker:
    def __init__(self, mp, config: SweepConfig, job):
        self.conn, child = mp.Pipe()
        self.proc = mp.Process(target=_worker_main, args=(child, config, job), daemon=True)
        self.proc.start()
        child.close()
        self.ready = False
        self.task: tuple[int, str] | None = None
        self.deadline: float | None = time.monotonic() + STARTUP_TIMEOUT_S

    def assign(self, task: tuple[int, str], timeout_s: float) -> None:
        self.task = task
        self.deadline = time.monotonic() + timeout_s
        self.conn.send(task)

    def kill(self) -> int | None:
        if self.proc.is_alive():
            self.proc.terminate()
            self.proc.join(2)
            if self.proc.is_alive():
                self.proc.kill()
        self.proc.join(2)
        self.conn.close()
        return self.proc.exitcode

    def stop(self) -> None:
        try:
            self.conn.send(None)
        except (OSError, ValueError):
            pass
        self.proc.join(5)
        self.kill()


def _texture_dirs(textures_dir) -> tuple[str, ...] | None:
    if not textures_dir:
        return None
    items = [textures_dir] if isinstance(textures_dir, (str, os.PathLike)) else list(textures_dir)
    return tuple(os.fspath(d) for d in items)


def render_sweep(paths: Iterable, frames: int = 30, size: tuple[int, int] = (64, 64), workers: int = 2,
                 seed: int = 0, timeout_s: float = 60, *, fps: float = 60.0, mesh: tuple[int, int] = (48, 36),
                 keep_frame: int | None = None, audio: str | None = None, textures_dir=None,
                 job: Callable | None = None, player: str = "milkdrop2") -> Iterator[dict]:
    """Yield one result dict per path, in the order given.

    Each dict: ``file``, ``status`` ('rendered' | 'error'), ``error`` (message or None), ``black``,
    ``frozen``, ``frames``, ``seconds``, and what the preset still rendered without:
    ``shader_failed`` (a warp or comp shader fell back to the MilkDrop 1 path),
    ``shader_errors`` (``{"stage", "reason", "line"[, "frame"]}``, the reason carrying the
    translator message or GLSL compiler log), ``stages`` (``{"warp"|"comp": "shader"|"fixed"|
    "fallback"}``), ``code_errors`` (EEL blocks that render empty: ``{"section", "line",
    "file_line", "col", "error"}``) and ``warnings`` (missing textures...); with ``keep_frame``
    also ``image``. ``textures_dir``: a folder or list of folders searched for user textures.
    ``player``: render as "milkdrop2" (default) or "butterchurn" (renderer.player).
    ``job(path, config, cache)`` replaces the default per-file work (a picklable top-level
    function; tests use it to simulate crashes and hangs).
    """
    paths = [os.fspath(p) for p in paths]
    if not paths:
        return
    if frames < 1:
        raise ValueError(f"frames must be at least 1, got {frames}")
    config = SweepConfig(frames=int(frames), size=(int(size[0]), int(size[1])), seed=int(seed), fps=float(fps),
                         mesh=(int(mesh[0]), int(mesh[1])), keep_frame=keep_frame, audio=audio,
                         textures_dir=_texture_dirs(textures_dir), player=player_named(player).name)
    mp = get_context("spawn")
    pending = deque(enumerate(paths))
    done: dict[int, dict] = {}
    next_out = 0
    start_failures = 0
    pool = [_Worker(mp, config, job) for _ in range(max(1, min(int(workers), len(paths))))]

    def replace(w: _Worker, reason: str) -> None:
        nonlocal start_failures
        code = w.kill()
        if w.task is not None:
            idx, path = w.task
            done[idx] = error_result(path, f"{reason} (worker exit code {code})" if "crash" in reason else reason)
        elif not w.ready:
            start_failures += 1
            if start_failures >= MAX_START_FAILURES:
                raise RuntimeError(f"sweep workers cannot start ({reason}, exit code {code})")
        pool[pool.index(w)] = _Worker(mp, config, job)

    try:
        while next_out < len(paths):
            for w in pool:
                if w.ready and w.task is None and pending:
                    w.assign(pending.popleft(), timeout_s)
            deadlines = [w.deadline for w in pool if w.deadline is not None]
            wait_s = max(0.0, min(deadlines) - time.monotonic()) if deadlines else None
            for conn in mp_connection.wait([w.conn for w in pool], timeout=wait_s):
                w = next(x for x in pool if x.conn is conn)
                try:
                    msg = conn.recv()
                except (EOFError, OSError):
                    replace(w, "worker crashed")
                    continue
                if msg[0] == "ready":
                    w.ready, w.deadline = True, None
                elif msg[0] == "fatal":
                    raise RuntimeError(f"sweep worker: {msg[1]}")
                else:
                    _, idx, result = msg
                    done[idx] = result
                    w.task, w.deadline = None, None
            now = time.monotonic()
            for w in list(pool):
                if w.deadline is not None and now >= w.deadline:
                    replace(w, f"timed out after {timeout_s:g} s" if w.task else "worker start timed out")
            while next_out in done:
                yield done.pop(next_out)
                next_out += 1
    finally:
        for w in pool:
            w.stop()
