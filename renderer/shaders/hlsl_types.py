"""HLSL value types and the implicit conversions HLSL allows but GLSL forbids.

HLSL silently broadcasts scalars, truncates vectors (float4 -> float3) and mixes int/float; GLSL
rejects all of these.  `convert` writes the explicit GLSL for each such conversion, and
`binary_result` applies HLSL's rule for mixed-size operands (the smaller vector wins).
A matrix HLSL floatRxC is stored as GLSL matRxC (R columns of C): the GLSL matrix is the HLSL one
transposed with the same constructor arguments, so `M[i]` is still row i and mul(v, M) is `M * v`.
"""
from __future__ import annotations

from dataclasses import dataclass
import re

_BASE_RANK = {"bool": 0, "int": 1, "float": 2}


@dataclass(frozen=True)
class HType:
    base: str            # 'float' | 'int' | 'bool' | 'sampler2D' | 'sampler3D' | 'void'
    dim: int = 1         # vector size, or matrix column count
    rows: int = 0        # matrix row count (0: not a matrix)

    @property
    def is_scalar(self) -> bool:
        return self.rows == 0 and self.dim == 1 and self.base in _BASE_RANK

    @property
    def is_vector(self) -> bool:
        return self.rows == 0 and self.dim > 1

    @property
    def is_matrix(self) -> bool:
        return self.rows > 0

    @property
    def is_numeric(self) -> bool:
        return self.base in _BASE_RANK

    @property
    def is_sampler(self) -> bool:
        return self.base.startswith("sampler")

    def with_base(self, base: str) -> "HType":
        return HType(base, self.dim, self.rows)

    def with_dim(self, dim: int) -> "HType":
        return HType(self.base, dim, 0)

    @property
    def components(self) -> int:
        return self.dim * (self.rows or 1)

    def glsl(self) -> str:
        if self.base in ("void", "sampler2D", "sampler3D"):
            return self.base
        if self.rows:
            return f"mat{self.rows}" if self.rows == self.dim else f"mat{self.rows}x{self.dim}"
        if self.dim == 1:
            return self.base
        return {"float": "vec", "int": "ivec", "bool": "bvec"}[self.base] + str(self.dim)


FLOAT = HType("float")
INT = HType("int")
BOOL = HType("bool")
VOID = HType("void")


def vec(n: int) -> HType:
    return HType("float", n)


_TYPE_RE = re.compile(r"(float|half|double|int|uint|dword|bool|min16float|min10float|min16int)([1-4])?(?:x([1-4]))?")


def parse_type_name(name: str) -> HType | None:
    """HLSL type name -> HType (half/double become float; float1 is a scalar)."""
    if name in ("sampler", "sampler2D", "texture", "texture2D"):
        return HType("sampler2D")
    if name in ("sampler3D", "texture3D"):
        return HType("sampler3D")
    if name == "void":
        return VOID
    m = _TYPE_RE.fullmatch(name)
    if not m:
        return None
    base = {"half": "float", "double": "float", "min16float": "float", "min10float": "float",
            "uint": "int", "dword": "int", "min16int": "int"}.get(m.group(1), m.group(1))
    if m.group(3):
        return HType(base, int(m.group(3)), int(m.group(2)))
    return HType(base, int(m.group(2) or 1))


def is_type_name(name: str) -> bool:
    return parse_type_name(name) is not None


def promote_base(a: str, b: str) -> str:
    return a if _BASE_RANK.get(a, 2) >= _BASE_RANK.get(b, 2) else b


def binary_result(a: HType, b: HType) -> HType | None:
    """Shape of an elementwise HLSL operation on a and b (None if HLSL would reject it)."""
    base = promote_base(a.base, b.base)
    if a.is_matrix or b.is_matrix:
        if a.is_matrix and b.is_matrix:
            return HType(base, min(a.dim, b.dim), min(a.rows, b.rows))
        m = a if a.is_matrix else b
        other = b if a.is_matrix else a
        return HType(base, m.dim, m.rows) if other.is_scalar else None
    if a.is_scalar:
        return b.with_base(base)
    if b.is_scalar:
        return a.with_base(base)
    return HType(base, min(a.dim, b.dim))


def common_type(types: list[HType]) -> HType:
    """Type the arguments of an elementwise intrinsic (lerp, clamp, max...) are converted to."""
    out = types[0]
    for t in types[1:]:
        r = binary_result(out, t)
        out = r if r is not None else out
    return out


def convert(code: str, src: HType, dst: HType, is_int_literal: bool = False) -> str:
    """GLSL text converting `code` of HLSL type src to dst, applying HLSL's implicit rules."""
    if src == dst:
        return code
    if dst.is_sampler or src.is_sampler:
        return code
    if is_int_literal and dst.base == "float" and src.is_scalar:
        lit = code.strip("()")
        lit = lit if "." in lit else lit + ".0"
        return lit if dst.is_scalar else f"{dst.glsl()}({lit})"
    if dst.is_matrix:
        if src.is_matrix:
            if src.rows == dst.rows and src.dim == dst.dim:
                return f"{dst.glsl()}({code})"
            return f"{dst.glsl()}({code})"   # GLSL matrix-from-matrix takes the upper-left block
        return f"{dst.glsl()}({code})"
    if src.is_matrix:   # matrix -> vector/scalar: HLSL flattens row-major; take first components
        flat = ", ".join(f"({code})[{i // src.dim}][{i % src.dim}]" for i in range(dst.dim))
        return f"{dst.glsl()}({flat})"
    # scalars and vectors
    if dst.dim == 1:
        inner = code if src.dim == 1 else f"({code}).x"
        return inner if src.base == dst.base else f"{dst.base}({inner})"
    if src.dim == 1:
        return f"{dst.glsl()}({code})"
    if src.dim > dst.dim:
        inner = f"({code}).{'xyzw'[:dst.dim]}"
        return inner if src.base == dst.base else f"{dst.glsl()}({inner})"
    if src.dim < dst.dim:   # HLSL rejects this; pad with zeros rather than fail the preset
        pad = ", ".join(["0.0" if dst.base == "float" else "0"] * (dst.dim - src.dim))
        return f"{dst.glsl()}({HType(dst.base, src.dim).glsl()}({code}), {pad})"
    return f"{dst.glsl()}({code})"   # same size, other base type
