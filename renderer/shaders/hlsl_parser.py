"""Recursive-descent parser: preprocessed HLSL tokens -> hlsl_ast.Program.

Accepts what MilkDrop presets actually write: globals with `static`/`const`/`uniform`, sampler
declarations with optional `= sampler_state {...}` blocks (skipped: MilkDrop picks filtering from the
sampler's name), user functions, `shader_body { ... }`, C-style casts `(float2)x`, `{a, b}`
initialisers and the comma operator.
"""
from __future__ import annotations

from . import hlsl_ast as A
from .hlsl_lexer import ShaderError, Token
from .hlsl_types import is_type_name

_QUALIFIERS = {"static", "const", "uniform", "extern", "volatile", "inline", "precise", "shared",
               "row_major", "column_major", "linear", "centroid", "nointerpolation", "noperspective"}
_ASSIGN_OPS = {"=", "+=", "-=", "*=", "/=", "%=", "&=", "|=", "^=", "<<=", ">>="}
_BINARY_PREC = {"||": 1, "&&": 2, "|": 3, "^": 4, "&": 5, "==": 6, "!=": 6, "<": 7, ">": 7, "<=": 7,
                ">=": 7, "<<": 8, ">>": 8, "+": 9, "-": 9, "*": 10, "/": 10, "%": 10}


class Parser:
    def __init__(self, tokens: list[Token], stage: str):
        self.toks = tokens
        self.pos = 0
        self.stage = stage

    # ---- helpers ---------------------------------------------------------------------------
    @property
    def tok(self) -> Token:
        return self.toks[self.pos]

    def peek(self, k: int = 1) -> Token:
        return self.toks[min(self.pos + k, len(self.toks) - 1)]

    def error(self, msg: str, tok: Token | None = None):
        t = tok or self.tok
        raise ShaderError(self.stage, t.line, msg + (f" near {t.text!r}" if t.text else " at end of text"))

    def take(self, text: str | None = None) -> Token:
        t = self.tok
        if text is not None and t.text != text:
            self.error(f"expected {text!r}")
        if t.kind == "eof":
            self.error("unexpected end of shader")
        self.pos += 1
        return t

    def accept(self, text: str) -> bool:
        if self.tok.text == text and self.tok.kind != "eof":
            self.pos += 1
            return True
        return False

    def ident(self) -> Token:
        if self.tok.kind != "id":
            self.error("expected a name")
        return self.take()

    def at_type(self) -> bool:
        return self.tok.kind == "id" and is_type_name(self.tok.text)

    # ---- top level -------------------------------------------------------------------------
    def program(self) -> A.Program:
        items = []
        while self.tok.kind != "eof":
            if self.accept(";"):
                continue
            if self.tok.text == "shader_body":
                line = self.take().line
                items.append(A.ShaderBody(line, self.block()))
                continue   # MilkDrop ignores nothing after; we parse on and keep what follows
            items.append(self.top_decl())
        return A.Program(items)

    def top_decl(self):
        quals = self.qualifiers()
        if not self.at_type():
            self.error("expected a declaration")
        tline = self.tok.line
        type_name = self.take().text
        name = self.ident()
        if self.tok.text == "(":
            return self.function(type_name, name)
        return self.var_decl_rest(type_name, name, quals, tline, top=True)

    def qualifiers(self) -> set:
        quals = set()
        while self.tok.kind == "id" and self.tok.text in _QUALIFIERS:
            quals.add(self.take().text)
        return quals

    def function(self, ret_type: str, name: Token) -> A.FuncDef:
        self.take("(")
        params = []
        if not self.accept(")"):
            while True:
                q = ""
                while self.tok.text in ("in", "out", "inout", "uniform", "const"):
                    t = self.take().text
                    q = t if t in ("out", "inout") else q
                if not self.at_type():
                    self.error("expected a parameter type")
                ptype = self.take().text
                pname = self.ident()
                if self.accept(":"):
                    self.ident()   # semantic
                if self.accept("="):
                    self.assignment()  # default value: ignored
                params.append(A.Param(q, ptype, pname.text, pname.line))
                if self.accept(")"):
                    break
                self.take(",")
        if self.accept(":"):
            self.ident()
        if self.accept(";"):
            return A.FuncDef(name.line, ret_type, name.text, params, None)
        return A.FuncDef(name.line, ret_type, name.text, params, self.block())

    def var_decl_rest(self, type_name: str, first: Token, quals: set, line: int, top: bool = False) -> A.VarDecl:
        decls = []
        name = first
        while True:
            d = A.Declarator(name.text, name.line)
            if self.accept("["):
                d.is_array = True
                d.array = None if self.tok.text == "]" else self.expression()
                self.take("]")
            if self.accept(":"):
                self.ident()   # semantic / register
                if self.accept("("):
                    while not self.accept(")"):
                        self.take()
            if self.accept("="):
                if self.tok.text == "sampler_state" or (self.tok.text in ("sampler_state",)):
                    self.skip_sampler_state()
                elif self.tok.text == "{":
                    d.init = self.init_list()
                else:
                    d.init = self.assignment()
            elif self.tok.text == "{" and type_name.startswith("sampler"):
                self.skip_braces()
            decls.append(d)
            if self.accept(","):
                name = self.ident()
                continue
            break
        self.take(";")
        return A.VarDecl(line, type_name, decls, quals)

    def skip_sampler_state(self):
        self.take("sampler_state")
        self.skip_braces()

    def skip_braces(self):
        self.take("{")
        level = 1
        while level:
            t = self.take()
            level += {"{": 1, "}": -1}.get(t.text, 0)

    def init_list(self) -> A.InitList:
        line = self.take("{").line
        items = []
        while not self.accept("}"):
            items.append(self.init_list() if self.tok.text == "{" else self.assignment())
            if not self.accept(","):
                self.take("}")
                break
        return A.InitList(line, items)

    # ---- statements ------------------------------------------------------------------------
    def block(self) -> A.Block:
        line = self.take("{").line
        stmts = []
        while not self.accept("}"):
            if self.tok.kind == "eof":
                self.error("missing '}'")
            stmts.append(self.statement())
        return A.Block(line, stmts)

    def statement(self):
        t = self.tok
        if t.text == "{":
            return self.block()
        if t.text == ";":
            self.take()
            return A.Empty(t.line)
        if t.kind == "id":
            if t.text == "if":
                self.take()
                self.take("(")
                cond = self.expression()
                self.take(")")
                then = self.statement()
                other = self.statement() if self.accept("else") else None
                return A.If(t.line, cond, then, other)
            if t.text == "for":
                self.take()
                self.take("(")
                init = None if self.tok.text == ";" else self.decl_or_expr_stmt(consume_semicolon=False)
                self.take(";")
                cond = None if self.tok.text == ";" else self.expression()
                self.take(";")
                step = None if self.tok.text == ")" else self.expression()
                self.take(")")
                return A.For(t.line, init, cond, step, self.statement())
            if t.text == "while":
                self.take()
                self.take("(")
                cond = self.expression()
                self.take(")")
                return A.While(t.line, cond, self.statement())
            if t.text == "do":
                self.take()
                body = self.statement()
                self.take("while")
                self.take("(")
                cond = self.expression()
                self.take(")")
                self.take(";")
                return A.DoWhile(t.line, body, cond)
            if t.text == "return":
                self.take()
                expr = None if self.tok.text == ";" else self.expression()
                self.take(";")
                return A.Return(t.line, expr)
            if t.text in ("break", "continue", "discard"):
                self.take()
                self.take(";")
                return A.Jump(t.line, t.text)
            if t.text == "[":   # attributes like [unroll] / [loop]
                pass
        if t.text == "[" and self.peek().kind == "id" and self.peek(2).text in ("]", "("):
            while self.take().text != "]":
                pass
            return self.statement()
        return self.decl_or_expr_stmt()

    def decl_or_expr_stmt(self, consume_semicolon: bool = True):
        t = self.tok
        quals = self.qualifiers()
        if self.at_type() and self.peek().kind == "id":
            type_name = self.take().text
            name = self.ident()
            if consume_semicolon:
                return self.var_decl_rest(type_name, name, quals, t.line)
            # for-init: parse declarators up to ';' without consuming it
            decls = []
            while True:
                d = A.Declarator(name.text, name.line)
                if self.accept("="):
                    d.init = self.assignment()
                decls.append(d)
                if not self.accept(","):
                    break
                name = self.ident()
            return A.VarDecl(t.line, type_name, decls, quals)
        if quals:
            self.error("expected a type after qualifier")
        expr = self.expression()
        if consume_semicolon:
            self.take(";")
        return A.ExprStmt(t.line, expr)

    # ---- expressions -----------------------------------------------------------------------
    def expression(self):
        first = self.assignment()
        if self.tok.text != ",":
            return first
        items = [first]
        while self.accept(","):
            items.append(self.assignment())
        return A.Comma(first.line, items)

    def assignment(self):
        lhs = self.ternary()
        if self.tok.text in _ASSIGN_OPS:
            op = self.take().text
            return A.Assign(lhs.line, op, lhs, self.assignment())
        return lhs

    def ternary(self):
        cond = self.binary(1)
        if self.accept("?"):
            a = self.assignment()
            self.take(":")
            b = self.assignment()
            return A.Ternary(cond.line, cond, a, b)
        return cond

    def binary(self, min_prec: int):
        lhs = self.unary()
        while self.tok.kind == "op" and _BINARY_PREC.get(self.tok.text, 0) >= min_prec:
            op = self.take().text
            rhs = self.binary(_BINARY_PREC[op] + 1)
            lhs = A.Binary(lhs.line, op, lhs, rhs)
        return lhs

    def unary(self):
        t = self.tok
        if t.kind == "op" and t.text in ("-", "+", "!", "~", "++", "--"):
            self.take()
            return A.Unary(t.line, t.text, self.unary())
        if t.text == "(" and self.peek().kind == "id" and is_type_name(self.peek().text) \
                and self.peek(2).text == ")":
            self.take()
            type_name = self.take().text
            self.take(")")
            return A.Cast(t.line, type_name, self.unary())
        return self.postfix(self.primary())

    def postfix(self, expr):
        while True:
            t = self.tok
            if t.text == ".":
                self.take()
                expr = A.Member(t.line, expr, self.ident().text)
            elif t.text == "[":
                self.take()
                idx = self.expression()
                self.take("]")
                expr = A.Index(t.line, expr, idx)
            elif t.text in ("++", "--"):
                self.take()
                expr = A.Postfix(t.line, t.text, expr)
            else:
                return expr

    def primary(self):
        t = self.tok
        if t.kind == "num":
            self.take()
            txt = t.text
            if txt.lower().startswith("0x"):
                return A.Num(t.line, str(int(txt, 16)), False)
            is_float = any(c in txt for c in ".eE") or txt[-1] in "fFhH"
            txt = txt.rstrip("fFhHuUlL")
            return A.Num(t.line, txt, is_float)
        if t.text == "(":
            self.take()
            e = self.expression()
            self.take(")")
            return e
        if t.kind == "id":
            self.take()
            if t.text in ("true", "false"):
                return A.BoolLit(t.line, t.text == "true")
            if self.tok.text == "(":
                self.take()
                args = []
                if not self.accept(")"):
                    while True:
                        args.append(self.assignment())
                        if self.accept(")"):
                            break
                        self.take(",")
                return A.Call(t.line, t.text, args)
            return A.Ident(t.line, t.text)
        if t.text == "{":
            return self.init_list()
        self.error("expected an expression")


def parse(tokens: list[Token], stage: str) -> A.Program:
    return Parser(tokens, stage).program()
