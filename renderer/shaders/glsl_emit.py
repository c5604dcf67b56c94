"""Typed walk over the HLSL tree that writes GLSL 330 core.

Every expression is emitted together with its HLSL type, so each place where HLSL converts
implicitly (assignment, arguments, returns, mixed-size operands) gets an explicit GLSL conversion.
User identifiers are renamed `u_<name>` so presets may use GLSL-reserved words (`main`, `input`,
`texture`...) and MilkDrop's own names without clashing with our uniforms.
Loops get an iteration cap: an endless loop in a preset would otherwise hang the rasteriser.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from . import hlsl_ast as A
from .glsl_arrays import declare_array
from .glsl_exprs import NeedWritable, emit_expr
from .glsl_intrinsics import TEX_HELPERS, Expr, call_intrinsic, floatify, to
from .hlsl_lexer import ShaderError
from .hlsl_types import BOOL, FLOAT, INT, VOID, HType, binary_result, common_type, convert, parse_type_name
from .prelude import (CONSTANTS, HELPERS, PIXEL_VARS, Q_ALIASES, UNIFORMS, SamplerRef, sampler_ref,
                      texsize_name)

LOOP_CAP = 1024
_SWIZ = ("xyzw", "rgba")


@dataclass
class _Func:
    glsl: str
    ret: HType
    params: list   # [(qualifier, HType)]


@dataclass
class EmitResult:
    decls: str                 # uniforms, helpers, user globals and functions
    init_globals: str          # statements run before the body
    body: str                  # statements of the shader_body function
    uniforms: set = field(default_factory=set)
    samplers: dict = field(default_factory=dict)      # uniform name -> SamplerRef
    texsizes: set = field(default_factory=set)        # texture names with a texsize_ uniform
    blur_level: int = 0


class Emitter:
    def __init__(self, stage: str, writable=None):
        self.stage = stage
        self.scopes: list[dict] = [{}]
        self.funcs: dict[str, list[_Func]] = {}
        self.uniforms: set[str] = set()
        self.samplers: dict[str, SamplerRef] = {}
        self.declared_dims: dict[str, int] = {}
        self.texsizes: set[str] = set()
        self.helpers: list[str] = []
        self.blur_level = 0
        self.ret_type: HType | None = None   # None: inside shader_body
        self.tmp = 0
        self.sampler_alias: dict[str, str] = {}
        self.writable: set[str] = set(writable or ())   # prelude uniforms the preset assigns to
        self.written: set[str] = set()
        self.arrays: dict[str, int] = {}   # glsl name of an array variable -> its length


    # ---- bookkeeping -----------------------------------------------------------------------
    def fail(self, node, msg: str):
        raise ShaderError(self.stage, getattr(node, "line", None), msg)

    def need_helper(self, name: str) -> bool:
        if name not in self.helpers:
            self.helpers.append(name)
        return True

    def use_uniform(self, name: str) -> str:
        self.uniforms.add(name)
        return name

    def use_sampler(self, name: str, node) -> str:
        ref = self.samplers.get(name) or sampler_ref(name, self.declared_dims.get(name))
        if ref is None:
            self.fail(node, f"unknown sampler {name}")
        self.samplers[name] = ref
        if ref.texture.startswith("blur") and ref.texture[4:].isdigit():
            self.blur_level = max(self.blur_level, int(ref.texture[4:]))
        return name

    def declare(self, name: str, t: HType, node) -> str:
        scope = self.scopes[-1]
        glsl = "u_" + name
        if len(self.scopes) > 1 and any(glsl == v[0] for v in scope.values()):
            self.fail(node, f"redefinition of {name}")
        scope[name] = (glsl, t)
        return glsl

    def lookup(self, node: A.Ident) -> Expr:
        name = node.name
        for scope in reversed(self.scopes):
            if name in scope:
                g, t = scope[name]
                return Expr(g, t, lvalue=True, array=g in self.arrays)
        if name in PIXEL_VARS:
            return Expr(name, PIXEL_VARS[name], lvalue=True)
        if name in self.sampler_alias:
            name = self.sampler_alias[name]
        if name in self.writable:
            self.written.add(name)
            return Expr(f"_w_{name}", FLOAT if name in Q_ALIASES else UNIFORMS.get(name, FLOAT), lvalue=True)
        if name in Q_ALIASES:
            pack, comp = Q_ALIASES[name]
            self.use_uniform(pack)
            return Expr(f"{pack}.{comp}", FLOAT)
        if name in UNIFORMS:
            return Expr(self.use_uniform(name), UNIFORMS[name])
        if name in CONSTANTS:
            return Expr(CONSTANTS[name], FLOAT)
        if name.startswith("sampler_"):
            s = self.use_sampler(name, node)
            return Expr(s, HType(f"sampler{self.samplers[s].dim}D"))
        if texsize_name(name):
            self.texsizes.add(name[8:])
            return Expr(self.use_uniform(name), HType("float", 4))
        self.fail(node, f"undeclared identifier '{name}'")

    def lookup_readonly(self, name: str) -> str:
        if name in Q_ALIASES:
            pack, comp = Q_ALIASES[name]
            self.use_uniform(pack)
            return f"{pack}.{comp}"
        return self.use_uniform(name)

    def type_of(self, name: str, node) -> HType:
        t = parse_type_name(name)
        if t is None:
            self.fail(node, f"unknown type {name}")
        return t

    # ---- top level -------------------------------------------------------------------------
    def program(self, prog: A.Program) -> EmitResult:
        out_decls: list[str] = []
        init: list[str] = []
        body = None
        for item in prog.items:
            if isinstance(item, A.VarDecl):
                self.global_decl(item, out_decls, init)
            elif isinstance(item, A.FuncDef):
                out_decls.append(self.function(item))
            elif isinstance(item, A.ShaderBody):
                if body is None:
                    self.ret_type = None
                    self.scopes.append({})
                    body = self.block_inner(item.body, 1)
                    self.scopes.pop()
        if body is None:
            self.fail(None, "no shader_body")
        helpers = [HELPERS.get(h) or TEX_HELPERS[h] for h in self.helpers]
        return EmitResult("\n".join(helpers + out_decls), "\n".join(init), body, set(self.uniforms),
                          dict(self.samplers), set(self.texsizes), self.blur_level)

    def global_decl(self, d: A.VarDecl, out: list, init: list):
        t = self.type_of(d.type_name, d)
        for dec in d.decls:
            if t.is_sampler:
                uni = dec.name if dec.name.startswith("sampler_") else "sampler_" + dec.name
                self.declared_dims[uni] = 3 if t.base == "sampler3D" else 2
                if uni != dec.name:   # `sampler main;`: MilkDrop binds it like sampler_main
                    self.sampler_alias[dec.name] = uni
                continue   # declared as uniforms on use
            if texsize_name(dec.name) and dec.init is None:
                continue   # MilkDrop binds these itself
            if dec.is_array:
                _, decl, assigns = declare_array(self, dec, t, d)
                out.append(decl)
                init.extend("    " + a for a in assigns)
                continue
            g = self.declare(dec.name, t, d)
            out.append(f"{t.glsl()} {g};")
            value = self.initializer(dec.init, t, d) if dec.init is not None else f"{t.glsl()}(0)"
            init.append(f"    {g} = {value};")

    def function(self, f: A.FuncDef) -> str:
        ret = self.type_of(f.ret_type, f)
        params = [(p.qualifier, self.type_of(p.type_name, p)) for p in f.params]
        glsl = "u_" + f.name
        self.funcs.setdefault(f.name, []).append(_Func(glsl, ret, params))
        plist = ", ".join(f"{q + ' ' if q else ''}{t.glsl()} u_{p.name}" for (q, t), p in zip(params, f.params))
        if f.body is None:
            return f"{ret.glsl()} {glsl}({plist});"
        self.ret_type = ret
        self.scopes.append({p.name: ("u_" + p.name, t) for (_, t), p in zip(params, f.params)})
        body = self.block_inner(f.body, 1)
        self.scopes.pop()
        self.ret_type = None
        tail = "" if ret == VOID else f"    return {ret.glsl()}(0);\n"
        return f"{ret.glsl()} {glsl}({plist}) {{\n{body}{tail}}}"

    # ---- statements ------------------------------------------------------------------------
    def block_inner(self, b: A.Block, depth: int) -> str:
        return "".join(self.statement(s, depth) for s in b.stmts)

    def statement(self, s, depth: int) -> str:
        ind = "    " * depth
        if isinstance(s, A.Block):
            self.scopes.append({})
            inner = self.block_inner(s, depth + 1)
            self.scopes.pop()
            return f"{ind}{{\n{inner}{ind}}}\n"
        if isinstance(s, A.Empty):
            return ""
        if isinstance(s, A.VarDecl):
            return self.local_decl(s, ind)
        if isinstance(s, A.ExprStmt):
            items = s.expr.items if isinstance(s.expr, A.Comma) else [s.expr]
            return "".join(f"{ind}{self.expr(e).code};\n" for e in items)
        if isinstance(s, A.If):
            cond = self.condition(s.cond)
            text = f"{ind}if ({cond}) {{\n{self.scoped(s.then, depth + 1)}{ind}}}\n"
            if s.other is not None:
                text += f"{ind}else {{\n{self.scoped(s.other, depth + 1)}{ind}}}\n"
            return text
        if isinstance(s, (A.For, A.While, A.DoWhile)):
            return self.loop(s, depth)
        if isinstance(s, A.Return):
            if self.ret_type is None or self.ret_type == VOID:
                if s.expr is not None and self.ret_type is None:
                    return f"{ind}return;\n"
                return f"{ind}return;\n"
            if s.expr is None:
                self.fail(s, "missing return value")
            return f"{ind}return {to(self.expr(s.expr), self.ret_type)};\n"
        if isinstance(s, A.Jump):
            return f"{ind}{s.kind};\n"
        self.fail(s, "unsupported statement")

    def scoped(self, s, depth: int) -> str:
        self.scopes.append({})
        text = self.block_inner(s, depth) if isinstance(s, A.Block) else self.statement(s, depth)
        self.scopes.pop()
        return text

    def local_decl(self, d: A.VarDecl, ind: str) -> str:
        t = self.type_of(d.type_name, d)
        if t.is_sampler:
            self.fail(d, "local samplers are not supported")
        lines = []
        for dec in d.decls:
            if dec.is_array:
                _, decl, assigns = declare_array(self, dec, t, d)
                lines.append(f"{ind}{decl}\n" + "".join(f"{ind}{a}\n" for a in assigns))
                continue
            value = self.initializer(dec.init, t, d) if dec.init is not None else f"{t.glsl()}(0)"
            g = self.declare(dec.name, t, d)   # declared after the initialiser: `float x = x;` sees outer x
            lines.append(f"{ind}{t.glsl()} {g} = {value};\n")
        return "".join(lines)

    def initializer(self, init, t: HType, node) -> str:
        if isinstance(init, A.InitList):
            flat = []
            self._flatten(init, flat)
            return self.construct(t, [self.expr(e) for e in flat], node).code
        return to(self.expr(init), t)

    def _flatten(self, init, out):
        for it in init.items:
            if isinstance(it, A.InitList):
                self._flatten(it, out)
            else:
                out.append(it)

    def condition(self, e) -> str:
        x = self.expr(e)
        if x.type == BOOL:
            return x.code
        if not x.type.is_numeric or x.type.is_matrix:
            self.fail(e, "condition must be a scalar")
        return to(Expr(x.code, x.type.with_dim(1) if x.type.dim > 1 else x.type), BOOL) if x.type.dim == 1 \
            else f"bool(({x.code}).x)"

    def loop(self, s, depth: int) -> str:
        ind = "    " * depth
        self.tmp += 1
        cnt = f"_loop{self.tmp}"
        guard = f"{ind}    if (++{cnt} > {LOOP_CAP}) break;\n"
        self.scopes.append({})
        if isinstance(s, A.For):
            init = ""
            if isinstance(s.init, A.VarDecl):
                init = self.local_decl(s.init, "").strip().rstrip(";")
            elif isinstance(s.init, A.ExprStmt):
                items = s.init.expr.items if isinstance(s.init.expr, A.Comma) else [s.init.expr]
                init = ", ".join(self.expr(e).code for e in items)
            cond = self.condition(s.cond) if s.cond is not None else ""
            step = self.expr(s.step).code if s.step is not None else ""
            body = self.scoped(s.body, depth + 1)
            text = f"{ind}{{ int {cnt} = 0;\n{ind}for ({init}; {cond}; {step}) {{\n{guard}{body}{ind}}} }}\n"
        elif isinstance(s, A.While):
            cond = self.condition(s.cond)
            body = self.scoped(s.body, depth + 1)
            text = f"{ind}{{ int {cnt} = 0;\n{ind}while ({cond}) {{\n{guard}{body}{ind}}} }}\n"
        else:
            body = self.scoped(s.body, depth + 1)
            cond = self.condition(s.cond)
            text = f"{ind}{{ int {cnt} = 0;\n{ind}do {{\n{guard}{body}{ind}}} while ({cond}); }}\n"
        self.scopes.pop()
        return text

    # ---- expressions -----------------------------------------------------------------------
    def expr(self, e) -> Expr:
        return emit_expr(self, e)

    def construct(self, t: HType, args: list[Expr], node) -> Expr:
        """floatN(...)/floatRxC(...) with HLSL's component counting made exact for GLSL."""
        n = t.components
        scalar = HType(t.base)
        if len(args) == 1:
            a = args[0]
            if a.type.is_scalar:
                if t.is_matrix:
                    return Expr(f"{t.glsl()}({', '.join([to(a, scalar)] * n)})", t)
                return Expr(convert(a.code, a.type, t, a.int_lit), t)
            if a.type.components == n:
                if a.type.is_matrix == t.is_matrix and a.type.dim == t.dim:
                    return Expr(to(a, t), t)
                return Expr(f"{t.glsl()}({a.code})", t)
            if a.type.components > n and not t.is_matrix and not a.type.is_matrix:
                return Expr(convert(a.code, a.type, t), t)
        parts: list[str] = []
        total = 0
        for a in args:
            if total >= n:
                break
            if not a.type.is_numeric:
                self.fail(node, f"bad argument to {t.glsl()} constructor")
            c = a.type.components
            if total + c > n:
                a_code = convert(a.code, a.type, HType(a.type.base, n - total))
                parts.append(a_code)
                total = n
                break
            parts.append(convert(a.code, a.type, scalar, a.int_lit) if a.type.is_scalar else a.code)
            total += c
        if total < n:
            parts.extend(["0.0" if t.base == "float" else "0"] * (n - total))
        return Expr(f"{t.glsl()}({', '.join(parts)})", t)

    def call(self, node: A.Call) -> Expr:
        name = node.name
        args = [self.expr(a) for a in node.args]
        if name in self.funcs:
            return self.call_user(node, args)
        t = parse_type_name(name)
        if t is not None and t.is_numeric:
            return self.construct(t, args, node)
        res = call_intrinsic(self, node, args)
        if res is None:
            self.fail(node, f"unknown function '{name}'")
        return res

    def call_user(self, node: A.Call, args: list[Expr]) -> Expr:
        cands = [f for f in self.funcs[node.name] if len(f.params) == len(args)]
        if not cands:
            self.fail(node, f"{node.name}() called with {len(args)} arguments")

        def score(f):
            return sum((a.type == p[1]) * 2 + (a.type.dim == p[1].dim) for a, p in zip(args, f.params))
        f = max(cands, key=score)
        parts = []
        for a, (q, pt) in zip(args, f.params):
            if q in ("out", "inout"):
                if a.type != pt:
                    self.fail(node, f"argument for out parameter of {node.name}() has the wrong type")
                parts.append(a.code)
            else:
                parts.append(to(a, pt))
        return Expr(f"{f.glsl}({', '.join(parts)})", f.ret)


def emit(prog: A.Program, stage: str) -> EmitResult:
    writable: set[str] = set()
    while True:
        em = Emitter(stage, writable)
        try:
            res = em.program(prog)
        except NeedWritable as e:
            if e.name in writable or len(writable) > 64:
                raise ShaderError(stage, None, f"cannot assign to {e.name}") from None
            writable.add(e.name)
            continue
        # writable copies: globals initialised from the uniforms before anything else runs
        decl, init = [], []
        for name in sorted(em.written):
            t = FLOAT if name in Q_ALIASES else UNIFORMS.get(name, FLOAT)
            src = em.lookup_readonly(name)
            decl.append(f"{t.glsl()} _w_{name};")
            init.append(f"    _w_{name} = {src};")
        res.decls = "\n".join(decl + [res.decls])
        res.init_globals = "\n".join(init + [res.init_globals])
        res.uniforms = set(em.uniforms)
        return res


__all__ = ["emit", "EmitResult", "Emitter", "Expr", "binary_result", "common_type", "floatify", "INT"]
