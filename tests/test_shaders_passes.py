"""Shader passes, blur, noise and user textures on real moderngl (EGL)."""
import os
from types import SimpleNamespace

os.environ.setdefault("LP_NUM_THREADS", "0")

import numpy as np
import pytest

from renderer.shaders.blur import blur_range
from renderer.shaders.noise import NOISE_SPECS, make_noise
from renderer.shaders.textures import image_pool, resolve_texture

moderngl = pytest.importorskip("moderngl")


def preset(warp="", comp="", **params):
    return SimpleNamespace(warp_shader=warp, comp_shader=comp, params=params, source=None,
                           ps_version_warp=2 if warp else 0, ps_version_comp=2 if comp else 0)


def filled(ctx, rgba, size=16):
    arr = np.tile(np.array(rgba, dtype="u1"), (size, size, 1))
    t = ctx.texture((size, size), 4, arr.tobytes())
    return t, ctx.framebuffer([t])


def read(fbo):
    w, h = fbo.size
    return np.frombuffer(fbo.read(components=4), dtype="u1").reshape(h, w, 4)


def test_warp_and_comp_passes_render(ctx):
    p = preset(warp="shader_body { ret = tex2D(sampler_main, uv).xyz * 0.5; }",
               comp="shader_body { ret = 1 - tex2D(sampler_main, uv).xyz; }")
    from renderer.shaders.passes import ShaderStages
    st = ShaderStages(ctx, p, seed=1)
    assert st.errors == [] and st.warp and st.comp
    src, _ = filled(ctx, (200, 100, 50, 255))
    dst, dfbo = filled(ctx, (0, 0, 0, 255))
    out, ofbo = filled(ctx, (0, 0, 0, 255))
    st.warp.draw({"time": 0.0, "frame": 0}, src, dfbo)
    assert np.allclose(read(dfbo)[8, 8, :3], (100, 50, 25), atol=2)
    st.comp.draw({"time": 0.0, "frame": 0}, dst, ofbo)
    assert np.allclose(read(ofbo)[8, 8, :3], (155, 205, 230), atol=2)
    st.release()


def test_warp_mesh_uv_moves_the_image(ctx):
    from renderer.shaders.passes import ShaderStages
    st = ShaderStages(ctx, preset(warp="shader_body { ret = tex2D(sampler_pc_main, uv).xyz; }"), seed=1, mesh=(4, 4))
    arr = np.zeros((16, 16, 4), dtype="u1")
    arr[:, 8:] = 255   # right half white
    src = ctx.texture((16, 16), 4, arr.tobytes())
    dst, dfbo = filled(ctx, (0, 0, 0, 255))
    uv = st.warp.identity_uv.copy()
    uv[..., 0] = 1.0 - uv[..., 0]     # mirror horizontally
    st.warp.draw({}, src, dfbo, uv)
    img = read(dfbo)
    assert img[8, 2, 0] > 200 and img[8, 13, 0] < 50
    st.release()


def test_broken_shader_falls_back_with_error_not_crash(ctx):
    from renderer.shaders.passes import ShaderStages
    st = ShaderStages(ctx, preset(warp="shader_body { ret = undefined_thing; }",
                                  comp="shader_body { ret = 0.5; }"), seed=1)
    assert st.warp is None and st.comp is not None
    assert len(st.errors) == 1 and st.errors[0].stage == "warp" and "undefined_thing" in st.errors[0].reason


def test_missing_user_texture_gives_warning_and_neutral_texture(ctx):
    from renderer.shaders.passes import ShaderStages
    st = ShaderStages(ctx, preset(comp="sampler sampler_no_such_image_xyz;\n"
                                       "shader_body { ret = tex2D(sampler_no_such_image_xyz, uv).xyz; }"), seed=1)
    assert st.comp is not None and st.errors == []
    assert len(st.warnings) == 1 and "no_such_image_xyz" in st.warnings[0].message
    src, _ = filled(ctx, (0, 0, 0, 255))
    out, ofbo = filled(ctx, (0, 0, 0, 255))
    st.comp.draw({}, src, ofbo)
    assert np.allclose(read(ofbo)[4, 4, :3], 128, atol=2)


def test_blur_of_flat_image_stays_flat_and_getblur_undoes_scaling(ctx):
    from renderer.shaders.passes import ShaderStages
    st = ShaderStages(ctx, preset(comp="shader_body { ret = GetBlur1(uv) * 0.5 + GetBlur3(uv) * 0.5; }",
                                  b1n=0.2, b1x=0.8, b3n=0.3, b3x=0.7, b1ed=0.0), seed=1)
    assert st.blur_level == 3
    src, _ = filled(ctx, (128, 128, 128, 255), size=64)
    out, ofbo = filled(ctx, (0, 0, 0, 255), size=64)
    st.update_blur(src, {})
    st.comp.draw({}, src, ofbo)
    assert abs(int(read(ofbo)[32, 32, 0]) - 128) <= 4


def test_blur_range_is_nested_and_wide_enough():
    r = blur_range({"b1n": 0.1, "b1x": 0.9, "b2n": 0.0, "b2x": 1.0, "b3n": 0.5, "b3x": 0.5})
    assert r.mins[1] >= r.mins[0] and r.maxs[1] <= r.maxs[0]
    assert r.maxs[2] - r.mins[2] >= 0.1 - 1e-9


def test_noise_sizes_and_determinism():
    for name, (size, zoom, dims) in NOISE_SPECS.items():
        a = make_noise(name, 5)
        assert a.shape == (size,) * dims + (4,) and a.dtype == np.uint8
    assert np.array_equal(make_noise("noise_hq", 5), make_noise("noise_hq", 5))
    assert not np.array_equal(make_noise("noise_lq", 5), make_noise("noise_lq", 6))
    # smoothed noise varies slowly between neighbours; raw noise does not
    hq = make_noise("noise_hq", 1).astype(float)
    lq = make_noise("noise_lq", 1).astype(float)
    assert np.abs(np.diff(hq[..., 0], axis=1)).mean() < 0.3 * np.abs(np.diff(lq[..., 0], axis=1)).mean()


def test_random_texture_pick_is_seeded_and_prefix_filtered(tmp_path):
    for n in ("smalltiled_a", "smalltiled_b", "big_c"):
        (tmp_path / f"{n}.png").write_bytes(b"x")
    pool = image_pool([str(tmp_path)])
    picks = {resolve_texture("rand00_smalltiled", pool, s).stem for s in range(20)}
    assert picks <= {"smalltiled_a", "smalltiled_b"} and len(picks) == 2
    assert resolve_texture("rand01", pool, 3) == resolve_texture("rand01", pool, 3)
    assert resolve_texture("BIG_C", pool, 0).stem == "big_c"


def test_program_cache_reuses_compiled_programs(ctx):
    from renderer.shaders.cache import program_cache
    from renderer.shaders.passes import ShaderStages
    cache = program_cache(ctx)
    p = preset(comp="shader_body { ret = 0.123; }")
    ShaderStages(ctx, p, seed=1).release()
    misses = cache.misses
    ShaderStages(ctx, p, seed=2).release()
    assert cache.misses == misses and cache.hits > 0
