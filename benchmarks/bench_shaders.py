"""Shader benchmark (issue 7).

1. translation time per shader;
2. the shader passes alone (warp + blur + comp) at 128x128: build cold / cached, frames/s;
3. the full Renderer (equations, mesh, warp shader, blur, waves/shapes, comp shader, readback) at
   128x128 for 20 corpus shader presets: compile time per new shader preset, cold (nothing
   cached: translation, GL program and llvmpipe JIT) and cached (the program cache hit a GA child
   with its parent's shader text gets), and the median frames/s.

Mesa keeps a disk cache of compiled shaders (~/.cache/mesa_shader_cache) that makes a "new"
shader look cheap when the benchmark ran before; it is disabled here unless --disk-cache is
given, so "cold" is what a never-seen evolved shader costs.

    .venv/bin/python benchmarks/bench_shaders.py [--presets 20] [--frames 60] [--size 128] [--disk-cache]
"""
import argparse
import os
import statistics
import sys
import time
from pathlib import Path

os.environ.setdefault("LP_NUM_THREADS", "0")
if "--disk-cache" not in sys.argv:
    os.environ["MESA_SHADER_CACHE_DISABLE"] = "true"
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from renderer.gl_context import get_context  # noqa: E402
from renderer.pipeline import Renderer  # noqa: E402
from renderer.milk.preset import load_milk  # noqa: E402
from renderer.shaders import cache as shader_cache  # noqa: E402
from renderer.shaders.passes import ShaderStages  # noqa: E402
from renderer.shaders.translate import translate  # noqa: E402

CORPUS = Path("/usr/share/projectM/presets")


def pick_presets(n: int):
    paths = [p for p in sorted(CORPUS.rglob("*.milk")) if "comp_1=" in p.read_text(encoding="latin-1")]
    out = []
    for p in paths[:: max(1, len(paths) // n)]:
        try:
            out.append(load_milk(str(p)))
        except Exception as exc:  # a preset the reader rejects is not a shader benchmark
            print(f"  skipped {p.name}: {exc}")
        if len(out) == n:
            break
    return out


def bench_translate(presets):
    t_tr = []
    for pr in presets:
        for text, stage in ((pr.warp_shader, "warp"), (pr.comp_shader, "comp")):
            if text:
                t0 = time.perf_counter()
                translate(text, stage)
                t_tr.append(time.perf_counter() - t0)
    print(f"translate: {len(t_tr)} shaders, median {statistics.median(t_tr) * 1e3:.2f} ms, "
          f"max {max(t_tr) * 1e3:.2f} ms")


def bench_passes(ctx, presets, size: int, frames: int):
    print(f"\n== shader passes alone (warp + blur + comp), {size}x{size}")
    texs = [ctx.texture((size, size), 4) for _ in range(3)]
    fbos = [ctx.framebuffer([t]) for t in texs]
    cold, warm, fps = [], [], []
    programs = shader_cache.program_cache(ctx)
    for pr in presets:
        shader_cache._TRANSLATIONS.clear()
        programs.clear()
        t0 = time.perf_counter()
        st = ShaderStages(ctx, pr, seed=1)
        state = {"time": 0.0, "frame": 0}
        if st.warp:
            st.warp.draw(state, texs[0], fbos[1])
        st.update_blur(texs[1], state)
        if st.comp:
            st.comp.draw(state, texs[1], fbos[2])
        ctx.finish()   # includes the driver's JIT at first draw
        cold.append(time.perf_counter() - t0)
        st.release()
        t0 = time.perf_counter()
        st = ShaderStages(ctx, pr, seed=1)   # same source: program cache hit
        warm.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        for f in range(frames):
            state = {"time": f / 30, "frame": f, "fps": 30.0}
            a, b = f % 2, 1 - f % 2
            if st.warp:
                st.warp.draw(state, texs[a], fbos[b])
            st.update_blur(texs[b], state)
            if st.comp:
                st.comp.draw(state, texs[b], fbos[2])
        fbos[2].read(components=4)
        fps.append(frames / (time.perf_counter() - t0))
        st.release()
    for o in fbos + texs:
        o.release()
    print(f"build+first frame (cold): median {statistics.median(cold) * 1e3:.1f} ms, max {max(cold) * 1e3:.1f} ms")
    print(f"build (cached program):   median {statistics.median(warm) * 1e3:.2f} ms")
    print(f"shader passes: median {statistics.median(fps):.0f} fps, min {min(fps):.0f} fps")


def bench_renderer(presets, size: int, frames: int, warmup: int = 5):
    print(f"\n== full Renderer frames, {size}x{size} ({frames} frames after {warmup} warm-up)")
    r = Renderer(size, size, fps=60, seed=0)
    programs = shader_cache.program_cache(r.ctx)
    cold, cached, fps, fixed_fps, failed = [], [], [], [], 0
    for pr in presets:
        shader_cache._TRANSLATIONS.clear()
        programs.clear()
        t0 = time.perf_counter()
        rep = r.load(pr)
        next(r.render(1))           # first frame: llvmpipe JITs the new programs here
        cold.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        r.load(pr)                  # a GA child with its parent's shader text
        next(r.render(1))
        cached.append(time.perf_counter() - t0)
        failed += bool(rep.shader_errors)
        list(r.render(warmup))
        t0 = time.perf_counter()
        for _ in r.render(frames):
            pass
        fps.append(frames / (time.perf_counter() - t0))
        stages = "+".join(s for s, how in rep.stages.items() if how == "shader") or "none"
        print(f"  {pr.name[:56]:56s} {stages:9s} cold {cold[-1] * 1e3:6.1f} ms  cached {cached[-1] * 1e3:5.1f} ms"
              f"  {fps[-1]:6.1f} fps")
    # the same presets with their shaders stripped: what the shader stages cost per frame
    for pr in presets:
        plain = load_milk(pr.source)
        plain.warp_shader = plain.comp_shader = ""
        r.load(plain)
        list(r.render(warmup))
        t0 = time.perf_counter()
        for _ in r.render(frames):
            pass
        fixed_fps.append(frames / (time.perf_counter() - t0))
    r.release()
    print(f"load + first frame, new shader (cold): median {statistics.median(cold) * 1e3:.1f} ms, "
          f"max {max(cold) * 1e3:.1f} ms")
    print(f"load + first frame, cached program:    median {statistics.median(cached) * 1e3:.1f} ms, "
          f"max {max(cached) * 1e3:.1f} ms")
    print(f"frames/s with shaders: median {statistics.median(fps):.0f}, min {min(fps):.0f}, max {max(fps):.0f}"
          f"  ({failed} presets fell back)")
    print(f"same presets, shaders stripped (MD1 path): median {statistics.median(fixed_fps):.0f} fps")


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--presets", type=int, default=20)
    ap.add_argument("--frames", type=int, default=60)
    ap.add_argument("--size", type=int, default=128)
    ap.add_argument("--disk-cache", action="store_true", help="keep Mesa's on-disk shader cache")
    args = ap.parse_args(argv)
    presets = pick_presets(args.presets)
    bench_translate(presets)
    bench_passes(get_context(), presets, args.size, args.frames)
    bench_renderer(presets, args.size, args.frames)


if __name__ == "__main__":
    main()
