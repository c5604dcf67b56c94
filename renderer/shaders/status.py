"""Does each warp/comp shader of a preset translate, compile and run (``liandan info``, the doctor).

Translation is checked without GL; compiling needs a context, so a tiny renderer (the probe) is
made only for presets whose shaders would run.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from renderer.milk.preset import Preset

PROBE_SIZE = 32
PROBE_FRAMES = 2  # frame 1 runs each shader pass once; frame 2 with last frame's blur/feedback inputs
SHADER_STAGES = ("warp", "comp")


@dataclass
class ShaderStatus:
    """One shader stage of a preset as ``info`` reports it. ``None`` means "not tried": no
    shader text, PS version 0, translation already failed, or no GL context (``--no-gl``)."""

    stage: str
    lines: int
    ps_version: int
    translates: bool | None = None
    translate_error: str | None = None
    compiles: bool | None = None
    compile_error: str | None = None
    render_error: str | None = None  # compiled, but failed while rendering: falls back from then on


def translate_status(text: str, stage: str) -> tuple[bool, str | None]:
    """Whether the HLSL translates to GLSL (no GL needed), with the translator's message."""
    from renderer.shaders.cache import translate_cached
    from renderer.shaders.hlsl_lexer import ShaderError

    try:
        translate_cached(text, stage)
    except ShaderError as exc:
        return False, (f"line {exc.line}: " if exc.line else "") + exc.message
    except Exception as exc:  # a translator bug is reported, not raised, like the renderer does
        return False, f"translator crashed: {type(exc).__name__}: {exc}"
    return True, None


_LOG_BOILERPLATE = {"glsl compiler failed", "fragment_shader", "vertex_shader"}


def reason_lines(reason: str) -> list[str]:
    """A fallback reason as its informative lines: moderngl wraps the GLSL compiler log in a
    banner ("GLSL Compiler failed", "fragment_shader", "=====") that says nothing."""
    out = []
    for ln in str(reason).splitlines():
        text = ln.strip()
        bare = text.removeprefix("GLSL compile failed:").strip()
        if not text or set(text) <= {"="} or text.lower() in _LOG_BOILERPLATE:
            continue
        if bare.lower() in _LOG_BOILERPLATE:
            out.append("GLSL compile failed:")
            continue
        out.append(text)
    return out or [str(reason)]


def short_reason(reason: str) -> str:
    """One line for tables: 'GLSL compile failed: 0:0(0): error: ...'."""
    return " ".join(reason_lines(reason))


def runs_shaders(preset: Preset) -> bool:
    versions = preset.shader_versions()
    texts = (preset.warp_shader, preset.comp_shader)
    return any(v and (t or "").strip() for v, t in zip(versions, texts))


class ShaderProbe:
    """Loads presets into a small Renderer to learn whether their shaders compile in GL.

    The GL context and renderer are made on first use only, so ``info`` on MilkDrop 1 presets
    (82% of files) costs nothing, and one renderer serves every preset of a call."""

    def __init__(self, textures_dir=None):
        self.textures_dir = textures_dir
        self.unavailable: str | None = None
        self._renderer = None

    def report(self, preset: Preset):
        """The LoadReport after rendering PROBE_FRAMES frames, or None without GL."""
        if self.unavailable is not None:
            return None
        if self._renderer is None:
            os.environ.setdefault("LP_NUM_THREADS", "0")
            try:
                from renderer.pipeline import Renderer

                self._renderer = Renderer(PROBE_SIZE, PROBE_SIZE, textures_dir=self.textures_dir)
            except Exception as exc:
                self.unavailable = f"no GL context ({type(exc).__name__}: {exc})"
                return None
        report = self._renderer.load(preset)
        try:
            for _ in self._renderer.render(PROBE_FRAMES):
                pass
        except Exception as exc:  # shown with the warnings; info goes on with the next preset
            report.warnings.append(f"rendering failed: {type(exc).__name__}: {exc}")
        return report

    def release(self) -> None:
        if self._renderer is not None:
            self._renderer.release()
            self._renderer = None


def shader_statuses(preset: Preset, probe: ShaderProbe | None) -> tuple[list[ShaderStatus], object]:
    """Per stage with shader text: translates? compiles? why not. Also returns the LoadReport
    (None without GL or without shaders that run), whose warnings name missing textures."""
    out = []
    for stage, text, ps in zip(SHADER_STAGES, (preset.warp_shader, preset.comp_shader), preset.shader_versions()):
        if not (text or "").strip():
            continue
        st = ShaderStatus(stage, sum(1 for ln in text.split("\n") if ln.strip()), ps)
        if ps:
            st.translates, st.translate_error = translate_status(text, stage)
        out.append(st)
    report = probe.report(preset) if probe is not None and runs_shaders(preset) else None
    if report is None:
        return out, None
    for st in out:
        if not st.translates:
            continue
        errors = [e for e in report.shader_errors if e.get("stage") == st.stage]
        at_load = [e for e in errors if e.get("frame") is None]
        if at_load:
            st.compiles = False
            st.compile_error = "; ".join(str(e.get("reason")) for e in at_load)
        elif errors or report.stages.get(st.stage) == "shader":
            st.compiles = True  # render-time failures come after a successful compile
        late = [e for e in errors if e.get("frame") is not None]
        if late:
            st.render_error = "; ".join(f"frame {e['frame']}: {e.get('reason')}" for e in late)
    return out, report
