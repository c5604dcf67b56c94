"""MilkDrop 2's orchestration of a preset's code blocks (what runs when, and what each sees).

Rules (MilkDrop 2 as mirrored by projectM 4's MilkdropPreset/*Context.cpp; butterchurn agrees
except where noted):
  * per_frame_init + per_frame share one VM; per_pixel has its own; each custom wave has a
    per-frame VM and a separate per-point VM; each custom shape has one VM. User variables
    persist in their VM across frames (and across points / vertices / instances).
  * Only q1..q32 (and t1..t8 for waves/shapes) cross between VMs; reg00..reg99 and gmegabuf
    are global (Runtime).
  * Init runs once (first frame). Its q values are kept; every frame the per-frame VM
    starts with q = post-init q and all base values reset to the preset's values (writes
    to base values in init do not persist; projectM and butterchurn agree).
  * per_pixel: per frame, q and the inputs come from the per-frame VM; per vertex x, y,
    rad, ang and zoom, zoomexp, rot, warp, cx, cy, dx, dy, sx, sy are reset to the
    per-frame results. Other per-pixel variables carry from vertex to vertex.
  * Wave init/shape init run once after per_frame_init, seeing its q; their t1..t8 are
    saved and restored at the start of each frame. Wave per-frame: r g b a samples reset
    from the wave's parameters each frame. Per-point: q and t copied once per frame from
    the wave's per-frame VM; per point sample, value1, value2, x = 0.5+value1,
    y = 0.5+value2 and r g b a (the per-frame results) are reset.
  * Shape per-frame runs once per instance; every instance starts from the shape's
    parameters with instance = 0..num_inst-1, q from the frame, t from post-init.
A block that does not compile is treated as empty; its EELError is kept in `errors`. A statement
that does not parse is left out and the rest of its block runs, as MilkDrop 2's ns-eel2 does
(compiled statement by statement); `errors` names it too.
"""
from __future__ import annotations

import numpy as np

from renderer.eel import VM, EELError, Runtime, compile_block

# .milk key -> (butterchurn baseVals name, MilkDrop 2 per-frame EEL variable or None)
BASE_KEYS: dict[str, tuple[str, str | None]] = {
    "fRating": ("rating", None), "fGammaAdj": ("gammaadj", "gamma"),
    "fDecay": ("decay", "decay"), "fVideoEchoZoom": ("echo_zoom", "echo_zoom"),
    "fVideoEchoAlpha": ("echo_alpha", "echo_alpha"),
    "nVideoEchoOrientation": ("echo_orient", "echo_orient"),
    "nWaveMode": ("wave_mode", "wave_mode"), "bAdditiveWaves": ("additivewave", "wave_additive"),
    "bWaveDots": ("wave_dots", "wave_usedots"), "bWaveThick": ("wave_thick", "wave_thick"),
    "bModWaveAlphaByVolume": ("modwavealphabyvolume", None),
    "bMaximizeWaveColor": ("wave_brighten", "wave_brighten"), "bTexWrap": ("wrap", "wrap"),
    "bDarkenCenter": ("darken_center", "darken_center"), "bRedBlueStereo": ("red_blue", None),
    "bBrighten": ("brighten", "brighten"), "bDarken": ("darken", "darken"),
    "bSolarize": ("solarize", "solarize"), "bInvert": ("invert", "invert"),
    "fWaveAlpha": ("wave_a", "wave_a"), "fWaveScale": ("wave_scale", None),
    "fWaveSmoothing": ("wave_smoothing", None), "fWaveParam": ("wave_mystery", "wave_mystery"),
    "fModWaveAlphaStart": ("modwavealphastart", None),
    "fModWaveAlphaEnd": ("modwavealphaend", None),
    "fWarpAnimSpeed": ("warpanimspeed", None), "fWarpScale": ("warpscale", None),
    "fZoomExponent": ("zoomexp", "zoomexp"), "fShader": ("fshader", None),
    "nMotionVectorsX": ("mv_x", "mv_x"), "nMotionVectorsY": ("mv_y", "mv_y"),
    "b1n": ("b1n", "blur1_min"), "b2n": ("b2n", "blur2_min"), "b3n": ("b3n", "blur3_min"),
    "b1x": ("b1x", "blur1_max"), "b2x": ("b2x", "blur2_max"), "b3x": ("b3x", "blur3_max"),
    "b1ed": ("b1ed", "blur1_edge_darken"),
}
for _k in ("zoom", "rot", "cx", "cy", "dx", "dy", "warp", "sx", "sy",
           "wave_r", "wave_g", "wave_b", "wave_x", "wave_y",
           "ob_size", "ob_r", "ob_g", "ob_b", "ob_a", "ib_size", "ib_r", "ib_g", "ib_b", "ib_a",
           "mv_dx", "mv_dy", "mv_l", "mv_r", "mv_g", "mv_b", "mv_a"):
    BASE_KEYS[_k] = (_k, _k)

# wave .milk short key -> (output name, EEL variable of the wave per-frame VM or None)
WAVE_KEYS = {
    "enabled": ("enabled", None), "samples": ("samples", "samples"), "sep": ("sep", None),
    "bSpectrum": ("spectrum", None), "bUseDots": ("usedots", None),
    "bDrawThick": ("thick", None), "bAdditive": ("additive", None),
    "scaling": ("scaling", None), "smoothing": ("smoothing", None),
    "r": ("r", "r"), "g": ("g", "g"), "b": ("b", "b"), "a": ("a", "a"),
}
# shape .milk short key -> EEL variable of the shape VM (None: not visible to code)
SHAPE_KEYS = {
    "enabled": None, "sides": "sides", "additive": "additive", "thickOutline": "thick",
    "textured": "textured", "num_inst": "num_inst", "x": "x", "y": "y", "rad": "rad",
    "ang": "ang", "tex_ang": "tex_ang", "tex_zoom": "tex_zoom",
    "r": "r", "g": "g", "b": "b", "a": "a", "r2": "r2", "g2": "g2", "b2": "b2", "a2": "a2",
    "border_r": "border_r", "border_g": "border_g", "border_b": "border_b", "border_a": "border_a",
}

INPUTS = ("time", "frame", "fps", "progress", "bass", "mid", "treb", "bass_att", "mid_att",
          "treb_att", "meshx", "meshy", "pixelsx", "pixelsy", "aspectx", "aspecty")
AUDIO_TIME = INPUTS[:10]           # what wave and shape VMs see
Q_NAMES = tuple(f"q{i}" for i in range(1, 33))
T_NAMES = tuple(f"t{i}" for i in range(1, 9))
MOTION = ("zoom", "zoomexp", "rot", "warp", "cx", "cy", "dx", "dy", "sx", "sy")
WAVE_POINT_OUT = ["x", "y", "r", "g", "b", "a"]
MAX_INSTANCES = 1024
SHAPE_HEAD = tuple(e for e in SHAPE_KEYS.values() if e) + ("instance",)
SHAPE_OUT = SHAPE_HEAD + T_NAMES + Q_NAMES
SHAPE_ROW = SHAPE_HEAD + ("thickoutline", "enabled") + T_NAMES + Q_NAMES   # one instance's dict


class PresetEquations:
    """All code of one preset, run with MilkDrop 2's variable rules (module docstring)."""

    def __init__(self, preset, seed: int = 0):
        self.preset = preset
        self.runtime = Runtime(seed)
        self.errors: list[EELError] = []
        rt = self.runtime
        self.init_block = self._compile(preset.init_code, "per_frame_init")
        self.frame_block = self._compile(preset.per_frame_code, "per_frame")
        self.pixel_block = self._compile(preset.per_pixel_code, "per_pixel")
        self.frame_vm, self.pixel_vm = VM(rt), VM(rt)
        self.wave_blocks, self.shape_blocks = [], []
        self.wave_vms, self.shape_vms = [], []
        for w in preset.waves:
            k = w.index
            self.wave_blocks.append((self._compile(w.init, f"wave{k}_init"),
                                     self._compile(w.per_frame, f"wave{k}_per_frame"),
                                     self._compile(w.per_point, f"wave{k}_per_point")))
            self.wave_vms.append((VM(rt), VM(rt)))
        for s in preset.shapes:
            k = s.index
            self.shape_blocks.append((self._compile(s.init, f"shape{k}_init"),
                                      self._compile(s.per_frame, f"shape{k}_per_frame")))
            self.shape_vms.append(VM(rt))
        self._q_after_init = {q: 0.0 for q in Q_NAMES}
        self._wave_t = [dict.fromkeys(T_NAMES, 0.0) for _ in preset.waves]
        self._shape_t = [dict.fromkeys(T_NAMES, 0.0) for _ in preset.shapes]
        self._initialised = False
        self._base = None  # _base_plan, made on first use
        # MilkDrop 2 runs per-pixel code in a VM of its own: it sees the per-frame code's q1-q32
        # and motion values, not its other variables. butterchurn copies them all in.
        self.frame_vars_in_pixel_code = False

    def _compile(self, lines, section):
        try:
            block = compile_block(lines or [], section, skip_bad_statements=True)
        except EELError as e:
            self.errors.append(e)
            return None
        self.errors.extend(EELError(e.section, e.line, e.col, f"{e.message} (statement skipped, as MilkDrop 2 does)")
                           for e in block.skipped)
        return None if block.empty else block

    # -- per frame ------------------------------------------------------------------------
    def _base_plan(self) -> tuple[dict[str, float], list[tuple[str, str | None, float]]]:
        """The preset's base values as the per-frame VM sees them, and (output name, EEL
        variable or None, preset value) in BASE_KEYS order for begin_frame's result: read from
        the params once per load instead of once per frame (a GA renders 90 frames a load)."""
        if self._base is None:
            params = self.preset.params
            values = [(name, eel, float(params.get(key, 0.0))) for key, (name, eel) in BASE_KEYS.items()]
            self._base = ({eel: v for _, eel, v in values if eel is not None}, values)
        return self._base

    def _load_base(self, vm: VM, inputs: dict) -> None:
        vm.vars.update(self._base_plan()[0])
        for name in INPUTS:
            vm.vars[name] = float(inputs.get(name, 0.0))

    def _initialise(self, inputs: dict) -> None:
        vm = self.frame_vm
        self._load_base(vm, inputs)
        if self.init_block is not None:
            self.init_block.run(vm)
        self._q_after_init = {q: float(vm.vars.get(q, 0.0)) for q in Q_NAMES}
        for k, (init, _, _) in enumerate(self.wave_blocks):
            if self._wave_enabled(k):
                fvm = self.wave_vms[k][0]
                self._load_wave_frame(k, fvm, {**inputs, **self._q_after_init})
                for t in T_NAMES:
                    fvm.vars[t] = 0.0
                if init is not None:
                    init.run(fvm)
                self._wave_t[k] = {t: float(fvm.vars.get(t, 0.0)) for t in T_NAMES}
        for k, (init, _) in enumerate(self.shape_blocks):
            if self._shape_enabled(k):
                svm = self.shape_vms[k]
                self._load_shape(k, svm, {**inputs, **self._q_after_init}, 0)
                for t in T_NAMES:
                    svm.vars[t] = 0.0
                if init is not None:
                    init.run(svm)
                self._shape_t[k] = {t: float(svm.vars.get(t, 0.0)) for t in T_NAMES}
        self._initialised = True

    def run_load_frame(self, inputs: dict[str, float]) -> None:
        """Run the init code and then the per-frame code once, at load, with ``inputs`` (frame 0):
        what butterchurn does (renderer.player), so variables that accumulate start a step ahead."""
        self._run_frame_code(inputs)

    def _run_frame_code(self, inputs: dict[str, float]) -> VM:
        if not self._initialised:
            self._initialise(inputs)
        vm = self.frame_vm
        self._load_base(vm, inputs)
        vm.vars.update(self._q_after_init)
        if self.frame_block is not None:
            self.frame_block.run(vm)
        return vm

    def begin_frame(self, inputs: dict[str, float]) -> dict[str, float]:
        vm = self._run_frame_code(inputs)
        out: dict[str, float] = {}
        get = vm.vars.get
        for name, eel, value in self._base_plan()[1]:
            out[name] = float(get(eel, 0.0)) if eel is not None else value
        out["shader"] = out["fshader"]
        for q in Q_NAMES:
            out[q] = float(vm.vars.get(q, 0.0))
        for name in INPUTS:
            out[name] = float(inputs.get(name, 0.0))
        return out

    # -- per pixel ------------------------------------------------------------------------
    def per_pixel(self, frame_vars, x, y, rad, ang) -> dict[str, np.ndarray] | None:
        if self.pixel_block is None:
            return None
        vm = self.pixel_vm
        if self.frame_vars_in_pixel_code:  # butterchurn (renderer.player): one namespace
            vm.vars.update(self.frame_vm.vars)
        for name in INPUTS + Q_NAMES:
            vm.vars[name] = float(frame_vars.get(name, 0.0))
        x = np.asarray(x, dtype=np.float64)
        shape = x.shape
        per_item = {"x": x.reshape(-1), "y": np.asarray(y, dtype=np.float64).reshape(-1),
                    "rad": np.asarray(rad, dtype=np.float64).reshape(-1),
                    "ang": np.asarray(ang, dtype=np.float64).reshape(-1)}
        for name in MOTION:
            per_item[name] = float(frame_vars.get(name, 0.0))
        out = self.pixel_block.run_many(vm, per_item, x.size, list(MOTION))
        return {k: v.reshape(shape) for k, v in out.items()}

    # -- custom waves ---------------------------------------------------------------------
    def _wave_enabled(self, k: int) -> bool:
        return k < len(self.preset.waves) and bool(self.preset.waves[k].params.get("enabled", 0))

    def _load_wave_frame(self, k: int, vm: VM, frame_vars: dict) -> None:
        params = self.preset.waves[k].params
        for name in AUDIO_TIME + Q_NAMES:
            vm.vars[name] = float(frame_vars.get(name, 0.0))
        for key, (_, eel) in WAVE_KEYS.items():
            if eel is not None:
                vm.vars[eel] = float(params.get(key, 0.0))

    def wave_frame(self, k: int, frame_vars: dict) -> dict[str, float] | None:
        if not self._wave_enabled(k):
            return None
        vm = self.wave_vms[k][0]
        self._load_wave_frame(k, vm, frame_vars)
        vm.vars.update(self._wave_t[k])
        block = self.wave_blocks[k][1]
        if block is not None:
            block.run(vm)
        params = self.preset.waves[k].params
        out = {}
        for key, (name, eel) in WAVE_KEYS.items():
            out[name] = float(vm.vars.get(eel, 0.0) if eel else params.get(key, 0.0))
        for name in T_NAMES + Q_NAMES + AUDIO_TIME:
            out[name] = float(vm.vars.get(name, 0.0))
        return out

    def wave_points(self, k: int, wave_vars: dict, sample, value1, value2) -> dict[str, np.ndarray]:
        sample = np.asarray(sample, dtype=np.float64).reshape(-1)
        value1 = np.asarray(value1, dtype=np.float64).reshape(-1)
        value2 = np.asarray(value2, dtype=np.float64).reshape(-1)
        n = sample.size
        vm = self.wave_vms[k][1]
        for name in AUDIO_TIME + Q_NAMES + T_NAMES:
            vm.vars[name] = float(wave_vars.get(name, 0.0))
        per_item = {"sample": sample, "value1": value1, "value2": value2,
                    "x": 0.5 + value1, "y": 0.5 + value2}
        for c in ("r", "g", "b", "a"):
            per_item[c] = float(wave_vars.get(c, 0.0))
        block = self.wave_blocks[k][2]
        if block is None:
            return {o: np.array(np.broadcast_to(np.asarray(per_item[o], dtype=np.float64), (n,)))
                    for o in WAVE_POINT_OUT}
        return block.run_many(vm, per_item, n, WAVE_POINT_OUT)

    # -- custom shapes --------------------------------------------------------------------
    def _shape_enabled(self, k: int) -> bool:
        return k < len(self.preset.shapes) and bool(self.preset.shapes[k].params.get("enabled", 0))

    def _load_shape(self, k: int, vm: VM, frame_vars: dict, instance: int) -> None:
        params = self.preset.shapes[k].params
        for name in AUDIO_TIME + Q_NAMES:
            vm.vars[name] = float(frame_vars.get(name, 0.0))
        for key, eel in SHAPE_KEYS.items():
            if eel is not None:
                vm.vars[eel] = float(params.get(key, 0.0))
        vm.vars["instance"] = float(instance)

    def shape_instances(self, k: int, frame_vars: dict) -> list[dict[str, float]]:
        got = self.shape_columns(k, frame_vars)
        if got is None:
            return []
        _, cols = got
        # one dict per instance: a copy of the values all instances share, then the rest
        base = {name: (None if isinstance(cols[name], list) else float(cols[name]))
                for name in SHAPE_ROW}
        varying = [name for name in SHAPE_ROW if isinstance(cols[name], list)]
        result = []
        for row in zip(*(cols[name] for name in varying)):
            out = base.copy()
            out.update(zip(varying, row))
            result.append(out)
        return result

    def shape_columns(self, k: int, frame_vars: dict) -> tuple[int, dict] | None:
        """Shape ``k``'s instances as columns: (count, {name: list of count floats, or one
        float shared by all}) for every SHAPE_ROW name, or None when the shape is disabled.
        The same values as ``shape_instances`` without a dict per instance (the shape stage
        reads columns; 350 instances a frame made the dicts cost more than the drawing)."""
        if not self._shape_enabled(k):
            return None
        params = self.preset.shapes[k].params
        count = int(min(max(int(params.get("num_inst", 1) or 1), 1), MAX_INSTANCES))
        vm = self.shape_vms[k]
        block = self.shape_blocks[k][1]
        # one item per instance, inputs in _load_shape's order, then t1..t8
        per_item: dict = {name: float(frame_vars.get(name, 0.0)) for name in AUDIO_TIME + Q_NAMES}
        for key, eel in SHAPE_KEYS.items():
            if eel is not None:
                per_item[eel] = float(params.get(key, 0.0))
        per_item["instance"] = np.arange(count, dtype=np.float64)
        per_item.update(self._shape_t[k])
        if block is None:
            cols = _instances_without_code(vm, per_item, count)
        else:
            cols = block._run_items_raw(vm, per_item, count, SHAPE_OUT)  # one loop budget for all instances
        cols["thickoutline"], cols["enabled"] = cols["thick"], 1.0
        return count, cols

    # -- reporting ------------------------------------------------------------------------
    def section_status(self) -> dict[str, str]:
        """section -> 'ok' | error text, for `liandan info`."""
        failed = {e.section: str(e) for e in self.errors}
        status = {}
        for sec, lines in _sections(self.preset):
            if lines:
                status[sec] = failed.get(sec, "ok")
        return status


def _instances_without_code(vm: VM, per_item: dict, count: int) -> dict:
    """Shape instances when the shape has no per-frame code: its inputs, as they are
    (in Block._run_items_raw's form: a list per varying value, else one float)."""
    for name, value in per_item.items():
        vm.vars[name] = float(value[-1]) if isinstance(value, np.ndarray) else value
    return {name: (per_item[name].tolist() if isinstance(per_item.get(name), np.ndarray)
                   else float(vm.vars.get(name, 0.0))) for name in SHAPE_OUT}


def _sections(preset):
    yield "per_frame_init", preset.init_code
    yield "per_frame", preset.per_frame_code
    yield "per_pixel", preset.per_pixel_code
    for w in preset.waves:
        yield f"wave{w.index}_init", w.init
        yield f"wave{w.index}_per_frame", w.per_frame
        yield f"wave{w.index}_per_point", w.per_point
    for s in preset.shapes:
        yield f"shape{s.index}_init", s.init
        yield f"shape{s.index}_per_frame", s.per_frame
