"""One headless OpenGL context per process, and the few GL helpers every stage needs.

Why one context: a GA renders thousands of presets; creating a context costs 40-300 ms and a
forked child that inherits one hangs unless ``LP_NUM_THREADS=0`` (measured on llvmpipe here). So the process
gets exactly one EGL context, created lazily, and every Renderer shares it.

Why ``LP_NUM_THREADS=0``: llvmpipe rasterising on the calling thread is 1.5-4x faster at the
small sizes we render (<= 128²) and makes forked workers safe. It must be in the environment
before the driver loads, so it is set here (only if the user has not chosen a value).

Why ``gc_mode='auto'``: moderngl's default never frees GL objects that are merely dropped
(measured: 200 textures of 256 KiB leaked 48 MB). Every stage still calls ``release()``
explicitly; 'auto' is the safety net for anything forgotten.
"""

from __future__ import annotations

import os
import threading
from contextlib import contextmanager

import numpy as np

_LOCK = threading.Lock()
_CONTEXT = None


def get_context():
    """The process-wide standalone EGL context (created on first use), made current.

    Made current on every fetch, not only when created: a process that also made (or released)
    another context meanwhile has that one current, and GL calls on ours would silently go to
    the wrong namespace (objects not found, or another context's program cache).
    """
    global _CONTEXT
    with _LOCK:
        if _CONTEXT is None:
            os.environ.setdefault("LP_NUM_THREADS", "0")
            import moderngl

            ctx = moderngl.create_standalone_context(backend="egl", require=330)
            ctx.gc_mode = "auto"
            _CONTEXT = ctx
        make_current(_CONTEXT)
        return _CONTEXT


def make_current(ctx) -> None:
    """Make ``ctx`` the calling thread's current GL context (about 5 µs on EGL).

    moderngl's own ``with ctx`` is not used: on exit it restores the context that was current
    before, which for a standalone EGL context is none, breaking callers that then use the
    context directly.
    """
    ctx.__enter__()


@contextmanager
def current(ctx):
    """Make ``ctx`` current for the block, and leave it current afterwards (see make_current)."""
    make_current(ctx)
    yield ctx


def release_context() -> None:
    """Drop the process context (tests and clean shutdown); the next get_context makes a new one."""
    global _CONTEXT
    with _LOCK:
        if _CONTEXT is not None:
            _CONTEXT.release()
            _CONTEXT = None


def rgba8_target(ctx, width: int, height: int, repeat: bool = False):
    """An 8-bit RGBA texture with bilinear filtering and its framebuffer.

    8-bit, because MilkDrop 2 (X8R8G8B8), butterchurn (RGBA/UNSIGNED_BYTE) and projectM all keep
    the feedback image in 8 bits per channel: the rounding each frame is part of the look
    (trails fade to exactly zero), so a float target would not be faithful.
    """
    tex = ctx.texture((width, height), 4, dtype="f1")
    tex.filter = (ctx.LINEAR, ctx.LINEAR)
    tex.repeat_x = repeat
    tex.repeat_y = repeat
    fbo = ctx.framebuffer(color_attachments=[tex])
    return tex, fbo


def set_wrap(texture, repeat: bool) -> None:
    """Wrap (bTexWrap=1) or clamp-to-edge (0) sampling of a feedback texture."""
    if texture.repeat_x != repeat:
        texture.repeat_x = repeat
        texture.repeat_y = repeat


QUAD_VERTICES = np.array([-1, -1, 1, -1, -1, 1, 1, 1], dtype="f4")
"""A full-screen quad as a 4-vertex TRIANGLE_STRIP in clip space."""

PASSTHROUGH_VS = """
#version 330
in vec2 in_pos;
out vec2 v_uv;            // GL texture coordinates: (0,0) bottom-left of the texture
void main() {
    v_uv = in_pos * 0.5 + 0.5;
    gl_Position = vec4(in_pos, 0.0, 1.0);
}
"""


def gl_name_probe(ctx) -> dict[str, int]:
    """GL names a fresh texture, buffer, framebuffer and vertex array get right now.

    Mesa hands out the lowest free name, so if these numbers keep rising across preset loads,
    something is leaking GL objects. Used by the leak tests and the benchmark.
    """
    tex = ctx.texture((1, 1), 4)
    buf = ctx.buffer(reserve=16)
    fbo = ctx.framebuffer(color_attachments=[tex])
    names = {"texture": tex.glo, "buffer": buf.glo, "framebuffer": fbo.glo}
    fbo.release()
    buf.release()
    tex.release()
    return names
