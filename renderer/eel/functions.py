"""EEL2 built-in semantics, each written twice: for Python floats and for numpy arrays.

Keeping both versions side by side is what lets the scalar and vectorised back ends agree
bit for bit. Rules (MilkDrop 2 / ns-eel2, cross-checked with butterchurn and projectm-eval):
  * truth: |x| > 0.00001 (NaN is false); `==`/equal: |a-b| < 0.00001; bnot: |x| < 0.00001
  * x/0 = 0; `%` `&` `|` truncate operands to integers (non-finite -> 0), `%` by 0 = 0
  * sqrt(x) = sqrt(|x|); pow: a non-finite result becomes 0 (complex or overflowing)
  * log/log10 follow C: log(0) = -inf, log(<0) = NaN; sin(inf) = NaN; exp overflow = inf
  * int(x) = floor(x) (as butterchurn and projectm-eval); min/max are `a<b?a:b` / `a>b?a:b`
  * sigmoid(a,b) = 1/(1+exp(-a*b)), 0 when the denominator is within 0.00001 of 0
  * rand(n) lives in runtime.py (it needs the per-render generator).
Transcendentals: numpy's kernels can differ from libm by an ulp, so for each function the
scalar side uses `math` only when it agrees with numpy on a fixed sample, else numpy itself.
"""
from __future__ import annotations

import math

import numpy as np

EPS = 1e-5
INT_CLAMP = float(2 ** 53)
NAN = float("nan")
INF = float("inf")


# ---------------------------------------------------------------- transcendental picks
def _agrees(np_f, m_f, xs) -> bool:
    want = np_f(xs)
    for x, w in zip(xs.tolist(), want.tolist()):
        try:
            got = m_f(*x) if isinstance(x, list) else m_f(x)
        except (ValueError, OverflowError):
            return False
        if got != w and not (got != got and w != w):
            return False
    return True


def _pick1(np_f, m_f, xs, guard):
    """The scalar version of a transcendental; records which kernel it uses (`kernel`,
    `uses_math`) so the scalar back end can inline the call with the same result."""
    if _agrees(np_f, m_f, xs):
        def f(x, _m=m_f, _g=guard):
            try:
                return _m(x)
            except (ValueError, OverflowError):
                return _g(x)
        f.kernel, f.uses_math = m_f, True
        return f
    f = lambda x, _n=np_f: float(_n(x))    # noqa: E731
    f.kernel, f.uses_math = np_f, False
    return f


_rs = np.random.default_rng(12345)
_SAMPLE = np.concatenate([_rs.normal(0, 1, 3000), _rs.normal(0, 30, 3000), np.arange(-50, 51) * 0.5])
_UNIT = np.clip(_SAMPLE, -1, 1)
_POS = np.abs(_SAMPLE) + 1e-3


def _nan_guard(x):
    return NAN


def _exp_guard(x):
    return INF if x > 0 else 0.0


s_sin = _pick1(np.sin, math.sin, _SAMPLE, _nan_guard)
s_cos = _pick1(np.cos, math.cos, _SAMPLE, _nan_guard)
s_tan = _pick1(np.tan, math.tan, _SAMPLE, _nan_guard)
s_asin = _pick1(np.arcsin, math.asin, _UNIT, _nan_guard)
s_acos = _pick1(np.arccos, math.acos, _UNIT, _nan_guard)
s_atan = _pick1(np.arctan, math.atan, _SAMPLE, _nan_guard)
s_exp = _pick1(np.exp, math.exp, np.clip(_SAMPLE, -700, 700), _exp_guard)
_s_log = _pick1(np.log, math.log, _POS, _nan_guard)
_s_log10 = _pick1(np.log10, math.log10, _POS, _nan_guard)
_pairs = np.stack([_SAMPLE[:2000], _SAMPLE[2000:4000]], axis=1)
if _agrees(lambda p: np.arctan2(p[:, 0], p[:, 1]), math.atan2, _pairs):
    s_atan2 = math.atan2
else:
    def s_atan2(a, b):
        return float(np.arctan2(a, b))
    s_atan2.kernel, s_atan2.uses_math = np.arctan2, False
_ppairs = np.stack([_POS[:2000], np.clip(_SAMPLE[2000:4000], -30, 30)], axis=1)
_MATH_POW_OK = _agrees(lambda p: np.power(p[:, 0], p[:, 1]), math.pow, _ppairs)


# ---------------------------------------------------------------- scalar helpers
def s_log(x):
    if x > 0.0:
        return _s_log(x)
    return -INF if x == 0.0 else NAN


def s_log10(x):
    if x > 0.0:
        return _s_log10(x)
    return -INF if x == 0.0 else NAN


def s_div(a, b):
    return a / b if b != 0.0 else 0.0


def s_toint(x):
    if x - x != 0.0:          # inf or NaN
        return 0.0
    t = float(math.trunc(x))
    return INT_CLAMP if t > INT_CLAMP else (-INT_CLAMP if t < -INT_CLAMP else t)


def s_mod(a, b):
    if -INT_CLAMP < a < INT_CLAMP and -INT_CLAMP < b < INT_CLAMP:    # s_toint, inlined
        tb = float(math.trunc(b))
        return math.fmod(float(math.trunc(a)), tb) if tb != 0.0 else 0.0
    tb = s_toint(b)
    if tb == 0.0:
        return 0.0
    return math.fmod(s_toint(a), tb)


def s_bitand(a, b):
    return float(int(s_toint(a)) & int(s_toint(b)))


def s_bitor(a, b):
    return float(int(s_toint(a)) | int(s_toint(b)))


_POW_CACHE: dict = {}
_POW_CACHE_SIZE = 4096
_np_power = np.power


def s_pow(a, b):
    """Scalar pow with numpy's kernel where math.pow disagrees with it (SVML builds).

    No np.errstate here: entering it costs more than the power itself, and every caller
    (generated code) already runs under np.errstate(all="ignore"). A numpy power on
    Python floats costs ~0.6 us, so results are memoised by (a, b) -- presets call
    pow(-1, i) and pow(x, 2) per point with few distinct arguments. +-0 and NaN never
    go through the cache (0.0 == -0.0 as a key; NaN is never found)."""
    if _MATH_POW_OK:
        try:
            r = math.pow(a, b)
        except (ValueError, OverflowError, ZeroDivisionError):
            return 0.0
        return r if r - r == 0.0 else 0.0
    if a != 0.0 and b != 0.0 and a == a and b == b:
        key = (a, b)
        r = _POW_CACHE.get(key)
        if r is None:
            r = float(_np_power(a, b))
            if r - r != 0.0:
                r = 0.0
            if len(_POW_CACHE) >= _POW_CACHE_SIZE:
                _POW_CACHE.clear()
            _POW_CACHE[key] = r
        return r
    r = float(_np_power(a, b))
    return r if r - r == 0.0 else 0.0


def _pow_const(e: float):
    """s_pow(x, e) for a constant e without the call, where numpy (and libm) compute it
    exactly so: numpy's power loop turns a scalar exponent 2, 0.5, 1 into x*x, sqrt(x),
    x (POWER_FAST_PATH). Kept only if it matches s_pow bit for bit on a fixed sample."""
    def square(x):
        r = x * x
        return r if r - r == 0.0 else 0.0

    def root(x):
        return math.sqrt(x) if 0.0 <= x < INF else 0.0

    def same(x):
        return x if x - x == 0.0 else 0.0
    return {2.0: square, 0.5: root, 1.0: same}[e]


def _pow_const_agrees(e: float) -> bool:
    f = _pow_const(e)
    specials = [0.0, -0.0, 1.0, -1.0, INF, -INF, NAN, 5e-324, -5e-324, 1e-160, 1e154, 1.3407807929942596e154,
                -1.4e154, 1.7976931348623157e308, -1.7976931348623157e308, 2.2250738585072014e-308]
    xs = specials + np.concatenate([_SAMPLE, _SAMPLE * 1e100, _SAMPLE * 1e-100,
                                    np.abs(_SAMPLE) ** 0.5]).tolist()
    with np.errstate(all="ignore"):
        for x in xs:
            want, got = s_pow(x, e), f(x)
            if want != got or math.copysign(1.0, want) != math.copysign(1.0, got):
                return False
    return True


POW_CONST = {e: _pow_const(e) for e in (2.0, 0.5, 1.0) if _pow_const_agrees(e)}


def s_sqrt(x):
    return math.sqrt(abs(x)) if x == x else NAN


def s_sigmoid(a, b):
    t = 1.0 + s_exp(-a * b)
    return 1.0 / t if abs(t) > EPS else 0.0


def s_floor(x):
    return float(math.floor(x)) if x - x == 0.0 else x


def s_ceil(x):
    return float(math.ceil(x)) if x - x == 0.0 else x


def s_sign(x):
    return 1.0 if x > 0.0 else (-1.0 if x < 0.0 else 0.0)


def s_min(a, b):
    return a if a < b else b


def s_max(a, b):
    return a if a > b else b


def s_invsqrt(x):
    return s_div(1.0, s_sqrt(x))


# ---------------------------------------------------------------- vector helpers
def v_truth(x):
    return np.abs(x) > EPS


def v_bool(mask):
    return np.where(mask, 1.0, 0.0)


def v_div(a, b):
    a, b = np.broadcast_arrays(np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64))
    out = np.zeros(a.shape)
    np.divide(a, b, out=out, where=(b != 0.0))
    return out


def v_toint(x):
    x = np.asarray(x, dtype=np.float64)
    t = np.clip(np.trunc(np.where(np.isfinite(x), x, 0.0)), -INT_CLAMP, INT_CLAMP)
    return t


def v_mod(a, b):
    ta, tb = v_toint(a), v_toint(b)
    safe = np.where(tb == 0.0, 1.0, tb)
    return np.where(tb == 0.0, 0.0, np.fmod(ta, safe))


def v_bitand(a, b):
    return (v_toint(a).astype(np.int64) & v_toint(b).astype(np.int64)).astype(np.float64)


def v_bitor(a, b):
    return (v_toint(a).astype(np.int64) | v_toint(b).astype(np.int64)).astype(np.float64)


def v_pow(a, b):
    r = np.power(np.asarray(a, dtype=np.float64), b)
    return np.where(np.isfinite(r), r, 0.0)


def v_sqrt(x):
    return np.sqrt(np.abs(x))


def v_log(x):
    x = np.asarray(x, dtype=np.float64)
    return np.where(x > 0.0, np.log(np.where(x > 0.0, x, 1.0)), np.where(x == 0.0, -INF, NAN))


def v_log10(x):
    x = np.asarray(x, dtype=np.float64)
    return np.where(x > 0.0, np.log10(np.where(x > 0.0, x, 1.0)), np.where(x == 0.0, -INF, NAN))


def v_sigmoid(a, b):
    t = 1.0 + np.exp(-(np.asarray(a, dtype=np.float64) * b))
    return np.where(np.abs(t) > EPS, 1.0 / np.where(t == 0.0, 1.0, t), 0.0)


def v_sign(x):
    return np.where(x > 0.0, 1.0, np.where(x < 0.0, -1.0, 0.0))


def v_min(a, b):
    return np.where(a < b, a, b)


def v_max(a, b):
    return np.where(a > b, a, b)


def v_invsqrt(x):
    return v_div(1.0, v_sqrt(x))


# name -> (scalar implementation, vector implementation) for plain calls
CALLS = {
    "sin": (s_sin, np.sin), "cos": (s_cos, np.cos), "tan": (s_tan, np.tan),
    "asin": (s_asin, np.arcsin), "acos": (s_acos, np.arccos), "atan": (s_atan, np.arctan),
    "atan2": (s_atan2, np.arctan2), "exp": (s_exp, np.exp),
    "log": (s_log, v_log), "log10": (s_log10, v_log10),
    "sqrt": (s_sqrt, v_sqrt), "pow": (s_pow, v_pow), "sigmoid": (s_sigmoid, v_sigmoid),
    "floor": (s_floor, np.floor), "int": (s_floor, np.floor), "ceil": (s_ceil, np.ceil),
    "sign": (s_sign, v_sign), "min": (s_min, v_min), "max": (s_max, v_max),
    "abs": (abs, np.abs), "invsqrt": (s_invsqrt, v_invsqrt),
}
