"""Shader benchmark: translation + compile time per shader (cold and cached) and frames/s of the
shader passes alone (warp + blur + comp) at 128x128 for 20 corpus shader presets."""
import os
import statistics
import sys
import time
from pathlib import Path

os.environ.setdefault("LP_NUM_THREADS", "0")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import moderngl  # noqa: E402

from renderer.preset import load_milk  # noqa: E402
from renderer.shaders import cache as shader_cache  # noqa: E402
from renderer.shaders.passes import ShaderStages  # noqa: E402
from renderer.shaders.translate import translate  # noqa: E402

CORPUS = Path("/usr/share/projectM/presets")


def main(n_presets: int = 20, frames: int = 60, size: int = 128):
    paths = [p for p in sorted(CORPUS.rglob("*.milk")) if "comp_1=" in p.read_text(encoding="latin-1")]
    presets = [load_milk(str(p)) for p in paths[:: max(1, len(paths) // n_presets)][:n_presets]]
    ctx = moderngl.create_standalone_context(backend="egl")

    t_tr = []
    for pr in presets:
        for text, stage in ((pr.warp_shader, "warp"), (pr.comp_shader, "comp")):
            if text:
                t0 = time.perf_counter()
                translate(text, stage)
                t_tr.append(time.perf_counter() - t0)
    print(f"translate: {len(t_tr)} shaders, median {statistics.median(t_tr) * 1e3:.2f} ms, "
          f"max {max(t_tr) * 1e3:.2f} ms")

    texs = [ctx.texture((size, size), 4) for _ in range(3)]
    fbos = [ctx.framebuffer([t]) for t in texs]
    cold, warm, fps = [], [], []
    for pr in presets:
        shader_cache._TRANSLATIONS.clear()
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
        print(f"  {pr.name[:60]:60s} cold {cold[-1] * 1e3:6.1f} ms  cached {warm[-1] * 1e3:5.2f} ms  "
              f"{fps[-1]:7.1f} fps  blur={st.blur_level}")
    print(f"build+first frame (cold): median {statistics.median(cold) * 1e3:.1f} ms, max {max(cold) * 1e3:.1f} ms")
    print(f"build (cached program):   median {statistics.median(warm) * 1e3:.2f} ms")
    print(f"shader passes at {size}x{size}: median {statistics.median(fps):.0f} fps, min {min(fps):.0f} fps")


if __name__ == "__main__":
    main()
