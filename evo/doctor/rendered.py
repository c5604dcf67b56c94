"""The doctor's checks of the picture: a short render against standard music, measured by the
fitness's own statistics, plus what only a render shows (shaders that fall back in GL, NaN that
reaches the picture, strobing, cost per frame, whether the picture follows the music at all).

The render (:func:`doctor_settings`): 64x64, 90 frames at 60 fps (1.5 s), MilkDrop's 48x36 mesh, the
synthetic track (seed 0), render seed 0; the statistics, score and descriptors are computed exactly
as the fitness does (the same sampled frames, bands and weights), so "black" here is "black" in a
run and in the corpus dataset. Every frame is read back for the flash test.

- black, white, frozen, flat, noise: ``evo.fitness.statistics.degenerate_reason``, and black or white
  over the render's last quarter alone (a picture that ends washed out is dead however it began);
- NaN in the picture: the preset's equations are watched while it renders; a built-in variable,
  q variable or per-pixel motion value that is not finite reaches the mesh (8-bit frames cannot
  show NaN: it reads as black or as garbage, depending on the player);
- strobing: WCAG 2.3.1 general flashes (a rise and a fall of >= 10% of full luminance) in each
  quarter of the picture, more than 3 in any one second (the fitness's own measure,
  ``evo.fitness.safety.flash_rate``, on WCAG relative luminance);
- slow: the per-frame work of the preset's own code and mesh (the part that does not shrink on a
  faster GPU and does not grow with resolution, so a 1080p player pays the same) above a 60 fps
  frame's 16.7 ms, in this renderer;
- no reaction to music: the same render in silence differs from the music render by less than
  ``REACTION_CHANGE`` on average over its second half (built-in waves alone make a difference).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np

from evo.config import EvalSettings
from evo.doctor.findings import Finding, finding
from evo.fitness.safety import FLASH_LIMIT, flash_rate

FRAME_BUDGET_MS = 1000.0 / 60.0
REACTION_CHANGE = 0.004  # mean |music - silence| per pixel (0..1): about 1/255


def doctor_settings(width: int = 64, height: int = 64, frames: int = 90, **fitness) -> EvalSettings:
    """The doctor's render as the fitness's own settings type (see the module docstring)."""
    from evo.mining.rendered import mining_settings

    return mining_settings(width, height, frames, **fitness)


DOCTOR_SETTINGS = doctor_settings()


def settings_from_dict(d: dict) -> EvalSettings:
    """A dataset's recorded render settings (meta.json's ``render.settings``, in either the flat
    ``EvalSettings.to_dict`` form or ``mining_settings``' arguments) as settings to render with."""
    from dataclasses import fields

    from evo.config import FitnessSection
    from evo.mining.rendered import mining_settings

    names = {f.name for f in fields(FitnessSection)} - {"weights", "beat_times", "audio_start"}
    args = {k: v for k, v in d.items() if k in names}
    for k in ("preview_frames", "preview_size"):
        if d.get(k) is not None:
            args[k] = int(d[k])
    return mining_settings(**args)


def _watched_equations(preset, seed: int):
    """PresetEquations that remember the first frame whose picture-driving values are not finite."""
    from renderer.equations import PresetEquations

    class Watched(PresetEquations):
        nan_at: tuple[int, str, str] | None = None

        def _note(self, values, section):
            if self.nan_at is not None or not values:
                return
            for name, v in values.items():
                if not np.all(np.isfinite(v)):
                    self.nan_at = (int(self._frame), section, name)
                    return

        def begin_frame(self, inputs):
            self._frame = inputs.get("frame", 0)
            out = super().begin_frame(inputs)
            self._note(out, "per_frame")
            return out

        def per_pixel(self, frame_vars, x, y, rad, ang):
            out = super().per_pixel(frame_vars, x, y, rad, ang)
            self._note(out, "per_pixel")
            return out

    return Watched(preset, seed=seed)


@dataclass
class RenderOutcome:
    findings: list[Finding] = field(default_factory=list)
    summary: dict = field(default_factory=dict)  # score, degenerate, stats, descriptors, flashes, ms per frame...
    still: np.ndarray | None = None  # the last frame
    result: dict = field(default_factory=dict)  # evaluate_preset's shape: score, stats, descriptors, degenerate, error


def measure(preset, settings: EvalSettings, renderer, analyzer, weights: dict[str, float], deadline: float) -> dict:
    """Render ``preset`` with every frame read back and measure it as the fitness does.

    Returns ``{"frames", "result", "nan_at", "report", "cpu_ms"}``; ``result`` has evaluate_preset's
    keys (score, stats, descriptors, degenerate, error)."""
    from evo.fitness.candidate import CandidateTimeout
    from evo.fitness.descriptors import behaviour_descriptors
    from evo.fitness.score import WORST_SCORE, score_stats
    from evo.fitness.statistics import frame_statistics

    f = settings.fitness
    result = {"score": WORST_SCORE, "stats": {}, "descriptors": {}, "degenerate": None, "error": None}
    eq = _watched_equations(preset, f.render_seed)
    report = renderer.load(preset, equations=eq)
    renderer.timings.reset()
    frames: list[np.ndarray] = []
    try:
        with np.errstate(all="ignore"):
            for frame in renderer.render(f.frames, analyzer):
                frames.append(np.array(frame, copy=True))
                if time.monotonic() > deadline:
                    raise CandidateTimeout(f"over {f.timeout_s:g} s after {len(frames)} of {f.frames} frames")
        idx = settings.sample_indices()
        bass = analyzer.levels(f.frames)[:, 0]
        sampled = [frames[i] for i in idx]
        stats = frame_statistics(sampled, bass[idx], static_every=f.static_every)
        score, reason = score_stats(stats, weights)
        result.update(score=score, stats=stats, degenerate=reason,
                      descriptors=behaviour_descriptors(sampled, stats, static_every=f.static_every))
    except CandidateTimeout as exc:
        result["error"] = f"timeout: {exc}"
    except Exception as exc:  # noqa: BLE001 - one bad preset never stops a folder
        result["error"] = f"{type(exc).__name__}: {exc}"[:2000]
    tm = renderer.timings
    cpu_ms = 1000.0 * (tm.equations + tm.mesh) / max(tm.frames, 1)
    return {"frames": frames, "result": result, "nan_at": eq.nan_at, "report": report, "cpu_ms": cpu_ms}


def render_findings(preset, file: str, settings: EvalSettings, renderer, analyzer, *, silence: bool = True,
                    weights: dict[str, float] | None = None, line_of=None) -> RenderOutcome:
    """Render, measure, and turn what the picture shows into findings (module docstring)."""
    from renderer.audio import AudioAnalyzer

    if weights is None:
        from evo.config import load_config

        weights = dict(load_config().fitness.weights)
    f = settings.fitness
    t0 = time.monotonic()
    m = measure(preset, settings, renderer, analyzer, weights, t0 + f.timeout_s)
    frames, result, report = m["frames"], m["result"], m["report"]
    out = RenderOutcome(result=result, still=frames[-1] if frames else None)
    line = (lambda key: (line_of or {}).get(key))
    add = out.findings.append
    for e in getattr(report, "shader_errors", None) or []:
        stage = str(e.get("stage"))
        from renderer.shaders.status import short_reason

        add(finding("shader_fallback", file, line(f"{stage}_1"), f"The {stage} shader does not run "
                    f"({short_reason(str(e.get('reason')))[:300]}); the player draws the MilkDrop 1 {stage} stage instead.",
                    f"remove the {stage} shader", f"{stage}_shader", reason=str(e.get("reason"))[:2000]))
    for w in getattr(report, "warnings", None) or []:
        if "not found" in str(w):
            add(finding("missing_texture", file, None, f"{w} (put the image beside the preset, or pass --textures).",
                        key=str(w).split(":", 1)[0]))
    summary = {"score": result.get("score"), "degenerate": result.get("degenerate"), "error": result.get("error"),
               "stats": result.get("stats") or {}, "descriptors": result.get("descriptors") or {},
               "cpu_ms_per_frame": round(m["cpu_ms"], 3), "frames": len(frames)}
    if result.get("error"):
        add(finding("render_error", file, None, f"Rendering fails: {result['error']}."))
        out.summary = summary
        return out
    reason = result.get("degenerate") or ending_degenerate(frames)
    if reason and not result.get("degenerate"):
        summary["degenerate"] = reason
        add(finding(reason, file, None, _dead_message(reason, _ending_stats(frames)) + " (by the end of the render)",
                    "crossbreed with the nearest healthy preset"))
    elif reason:
        add(finding(reason, file, None, _dead_message(reason, result["stats"]), "crossbreed with the nearest healthy preset"))
    if m["nan_at"] is not None:
        k, section, name = m["nan_at"]
        add(finding("nan_picture", file, None, f"From frame {k}, the {section.replace('_', '-')} value {name} is NaN or "
                    "infinite, and the picture breaks where it is used.", "reset it to a finite value", section,
                    frame=k, variable=name))
    skip = min(f.skip, max(0, len(frames) - 3))
    flashes = flash_rate(frames[skip:], f.fps)
    summary["flashes_per_s"] = round(flashes, 2)
    if flashes > FLASH_LIMIT:
        add(finding("strobing", file, None, f"Parts of the picture flash {flashes:.1f} times in one second; more than 3 "
                    "can trigger seizures (WCAG 2.3.1).", None, flashes_per_s=flashes))
    if m["cpu_ms"] > FRAME_BUDGET_MS:
        add(finding("slow", file, None, f"Its code and mesh take {m['cpu_ms']:.1f} ms a frame before anything is drawn, "
                    f"more than the {FRAME_BUDGET_MS:.1f} ms a 60 fps frame has (at any resolution).", None,
                    ms_per_frame=m["cpu_ms"]))
    if silence and not reason and m["cpu_ms"] <= FRAME_BUDGET_MS:  # a slow preset is not rendered twice
        quiet = measure(preset, settings, renderer, AudioAnalyzer.silence(f.fps), weights, time.monotonic() + f.timeout_s)
        if quiet["frames"] and len(quiet["frames"]) == len(frames):
            half = len(frames) // 2
            diff = float(np.mean([np.abs(a.astype(np.int16) - b.astype(np.int16)).mean()
                                  for a, b in zip(frames[half:], quiet["frames"][half:])])) / 255.0
            summary["music_difference"] = round(diff, 5)
            if diff < REACTION_CHANGE:
                add(finding("no_music_reaction", file, None, "The picture is the same with music and in silence: "
                            "nothing in it follows the music.", None, difference=diff))
    out.summary = summary
    return out


def ending_degenerate(frames: list[np.ndarray]) -> str | None:
    """'black' or 'white' when the last quarter of the render is (the statistics average the whole
    render after its warm-up, so a picture that ends washed out can pass them)."""
    from evo.fitness.statistics import DegenerateThresholds

    if len(frames) < 8:
        return None
    s = _ending_stats(frames)
    t = DegenerateThresholds()
    if s["luma_max"] < t.black_luma:
        return "black"
    if s["luma_mean"] > t.white_luma or s["frac_bright"] > t.white_bright_frac:
        return "white"
    return None


def _ending_stats(frames: list[np.ndarray]) -> dict:
    from evo.fitness.statistics import luma

    tail = frames[-max(2, len(frames) // 4):]
    lum = [luma(f) for f in tail]
    means = [float(y.mean()) / 255.0 for y in lum]
    return {"luma_mean": float(np.mean(means)), "luma_max": max(means),
            "frac_bright": float(np.mean([np.count_nonzero(y > 245) / y.size for y in lum]))}


def _dead_message(reason: str, stats: dict) -> str:
    lum = stats.get("luma_mean", 0.0)
    return {
        "black": f"The picture stays black (mean brightness {lum:.3f} of full).",
        "white": f"The picture washes out to white (mean brightness {lum:.2f}, "
                 f"{stats.get('frac_bright', 0.0):.0%} of pixels saturated).",
        "frozen": "The picture does not move.",
        "flat": "The picture is one flat colour.",
        "noise": "The picture is noise: the feedback loop has exploded.",
    }.get(reason, f"The picture is degenerate ({reason}).")
