"""EEL2 text -> `Program` (see ast.py).

Precedence, loosest first (C-like, as ns-eel2): `= += -= *= /= %= ^= &= |=` (right),
`?:` (right), `||`, `&&`, `|`, `&`, `== !=`, `< > <= >=`, `+ -`, `* / %`, `^` (right),
unary `- + !`. A name followed by `(` is a function call, otherwise a variable, so
`rand` can be a variable. Nesting is capped (MAX_NEST parentheses/calls, MAX_DEPTH tree
height) so hostile input gets an error instead of a RecursionError deep in Python.

ns-eel2's internal function names are callable as in MilkDrop 2, whose compiler rewrites every
operator into one of them before parsing (`a >= b` is `_aboeq(a, b)`, `a += b` is
`_addop(a, b)`), so presets that spell them out compile: INTERNAL maps each to the node its
operator makes.

``parse(text, skip_bad_statements=True)`` drops a top-level statement that does not parse and
goes on after the next `;`, recording why in ``Program.skipped``. That is MilkDrop 2: its
ns-eel2 (built in EEL1 compatibility mode, which is where band, bor and sigmoid come from)
compiles each `;`-separated statement on its own and skips one that fails, so a preset line
such as `x = 0.99l;` (a number and then a name: a syntax error there too) costs only itself.
"""
from __future__ import annotations

from . import ast as A
from .errors import EELSyntax
from .lexer import Token, tokenize

MAX_NEST = 50      # parentheses / call nesting
MAX_DEPTH = 100   # height of any statement's tree (long a+b+c+... chains count too)

_BINARY = {
    "||": 1, "&&": 2, "|": 3, "&": 4, "==": 5, "!=": 5,
    "<": 6, ">": 6, "<=": 6, ">=": 6, "+": 7, "-": 7, "*": 8, "/": 8, "%": 8, "^": 9,
}
_RIGHT_ASSOC = {"^"}
_ASSIGN_OPS = {"=", "+=", "-=", "*=", "/=", "%=", "^=", "&=", "|="}

# name -> arity of the pure built-ins (special forms are handled in _call)
FUNCTIONS = {
    "sin": 1, "cos": 1, "tan": 1, "asin": 1, "acos": 1, "atan": 1, "atan2": 2,
    "sqr": 1, "sqrt": 1, "pow": 2, "exp": 1, "log": 1, "log10": 1,
    "abs": 1, "sign": 1, "min": 2, "max": 2, "floor": 1, "ceil": 1, "int": 1,
    "above": 2, "below": 2, "equal": 2, "bnot": 1, "band": 2, "bor": 2,
    "sigmoid": 2, "rand": 1, "invsqrt": 1,
}
SPECIAL = {"if": 3, "loop": 2, "while": 1, "exec2": 2, "exec3": 3,
           "megabuf": 1, "gmegabuf": 1, "assign": 2}

# ns-eel2's internal names -> (kind, operator): "binary" a OP b, "unary" OP a, "assign" a OP= b
INTERNAL = {
    "_equal": ("binary", "=="), "_noteq": ("binary", "!="), "_below": ("binary", "<"),
    "_above": ("binary", ">"), "_beleq": ("binary", "<="), "_aboeq": ("binary", ">="),
    "_and": ("binary", "&&"), "_or": ("binary", "||"), "_mod": ("binary", "%"),
    "_add": ("binary", "+"), "_sub": ("binary", "-"), "_mul": ("binary", "*"), "_div": ("binary", "/"),
    "_not": ("unary", "!"), "_neg": ("unary", "-"),
    "_set": ("assign", "="), "_addop": ("assign", "+="), "_subop": ("assign", "-="),
    "_mulop": ("assign", "*="), "_divop": ("assign", "/="), "_modop": ("assign", "%="),
    "_orop": ("assign", "|="), "_andop": ("assign", "&="), "_powop": ("assign", "^="),
    "_if": ("special", "if"), "_mem": ("special", "megabuf"), "_gmem": ("special", "gmegabuf"),
}


def parse(text: str, skip_bad_statements: bool = False) -> A.Program:
    return _Parser(text, skip_bad_statements).program()


class _Parser:
    def __init__(self, text: str, skip_bad_statements: bool = False):
        self.text = text
        self.skip_bad = skip_bad_statements
        self.tokens: list[Token] = tokenize(text, lenient=skip_bad_statements)
        self.i = 0
        self.nest = 0
        self.chain = 0     # right-recursion depth (`a=b=c`, `a^b^c`, `a?b:c?d:e`): a lower bound on tree height

    # -- token helpers -------------------------------------------------------------
    @property
    def tok(self) -> Token:
        return self.tokens[self.i]

    def _is(self, text: str) -> bool:
        t = self.tokens[self.i]
        return t.kind == "op" and t.text == text

    def _expect(self, text: str) -> Token:
        t = self.tok
        if not self._is(text):
            raise EELSyntax(t.pos, f"expected '{text}' but found {_describe(t)}")
        self.i += 1
        return t

    def _deeper(self, pos: int, parse, *args):
        """Parse a right operand one level deeper; refuse at MAX_DEPTH levels, where the tree
        would be refused anyway, before Python's own recursion limit turns it into an error
        without a place."""
        self.chain += 1
        try:
            if self.chain > MAX_DEPTH:
                raise EELSyntax(pos, f"expression nested too deeply (more than {MAX_DEPTH} levels)")
            return parse(*args)
        finally:
            self.chain -= 1

    def _node(self, cls, *args, pos):
        depth = 1 + max((c.depth for c in args if hasattr(c, "depth")), default=0)
        for a in args:
            if isinstance(a, tuple):
                depth = max(depth, 1 + max((c.depth for c in a), default=0))
        if depth > MAX_DEPTH:
            raise EELSyntax(pos, f"expression nested too deeply (more than {MAX_DEPTH} levels)")
        return cls(*args, pos=pos, depth=depth)

    # -- grammar ---------------------------------------------------------------------
    def program(self) -> A.Program:
        stmts, skipped = [], []
        while self.tok.kind != "eof":
            if self._is(";"):
                self.i += 1
                continue
            start = self.i
            try:
                stmt = self.assignment()
                if self.tok.kind != "eof":
                    self._expect(";")
            except EELSyntax as e:
                if not self.skip_bad:
                    raise
                skipped.append(e)
                self.nest = 0
                self.i = self._after_next_semicolon(start)
                continue
            stmts.append(stmt)
        return A.Program(stmts, self.text, skipped)

    def _after_next_semicolon(self, start: int) -> int:
        """Index of the token after the first `;` past ``start`` (MilkDrop 2 splits statements at
        every `;` character), or of the end."""
        k = start + 1
        while self.tokens[k].kind != "eof" and not (self.tokens[k].kind == "op" and self.tokens[k].text == ";"):
            k += 1
        return k + 1 if self.tokens[k].kind != "eof" else k

    def sequence(self):
        """`a; b; c` where a value is expected (inside parentheses / arguments)."""
        pos = self.tok.pos
        items = [self.assignment()]
        while self._is(";"):
            self.i += 1
            if self._is(")") or self._is(","):
                break
            if self._is(";"):
                continue
            items.append(self.assignment())
        if len(items) == 1:
            return items[0]
        return self._node(A.Seq, tuple(items), pos=pos)

    def assignment(self):
        left = self.ternary()
        t = self.tok
        if t.kind == "op" and t.text in _ASSIGN_OPS:
            if not isinstance(left, (A.Var, A.Mem)):
                raise EELSyntax(t.pos, f"cannot assign to this expression with '{t.text}'")
            self.i += 1
            value = self._deeper(t.pos, self.assignment)
            return self._node(A.Assign, t.text, left, value, pos=t.pos)
        return left

    def ternary(self):
        cond = self.binary(1)
        if self._is("?"):
            pos = self.tok.pos
            self.i += 1
            then = self._deeper(pos, self.assignment)
            self._expect(":")
            other = self._deeper(pos, self.assignment)
            return self._node(A.Cond, cond, then, other, pos=pos)
        return cond

    def binary(self, min_prec: int):
        left = self.unary()
        while True:
            t = self.tok
            prec = _BINARY.get(t.text) if t.kind == "op" else None
            if prec is None or prec < min_prec:
                return left
            self.i += 1
            right = self._deeper(t.pos, self.binary, prec if t.text in _RIGHT_ASSOC else prec + 1)
            left = self._node(A.Binary, t.text, left, right, pos=t.pos)

    def unary(self):
        prefix = []
        while self.tok.kind == "op" and self.tok.text in ("-", "+", "!"):
            prefix.append(self.tok)
            self.i += 1
        node = self.primary()
        for t in reversed(prefix):
            if t.text == "+":
                continue
            if t.text == "-" and isinstance(node, A.Num):
                node = A.Num(-node.value, pos=t.pos)
                continue
            node = self._node(A.Unary, t.text, node, pos=t.pos)
        return node

    def primary(self):
        t = self.tok
        if t.kind == "num":
            self.i += 1
            return A.Num(t.value, pos=t.pos)
        if t.kind == "name":
            self.i += 1
            if self._is("("):
                return self._call(t)
            return A.Var(t.text, pos=t.pos)
        if self._is("("):
            self.i += 1
            self._enter(t.pos)
            node = self.sequence()
            self._expect(")")
            self.nest -= 1
            return node
        if t.kind == "bad":
            raise EELSyntax(t.pos, t.text)
        raise EELSyntax(t.pos, f"expected a value but found {_describe(t)}")

    def _enter(self, pos: int):
        self.nest += 1
        if self.nest > MAX_NEST:
            raise EELSyntax(pos, f"parentheses nested too deeply (more than {MAX_NEST})")

    def _call(self, name_tok: Token):
        name, pos = name_tok.text, name_tok.pos
        internal = INTERNAL.get(name)
        if internal is not None:
            return self._internal(name, pos, *internal)
        arity = FUNCTIONS.get(name, SPECIAL.get(name))
        if arity is None:
            raise EELSyntax(pos, f"unknown function '{name}'")
        args = self._arguments(name, pos, arity)
        if name == "if":
            return self._node(A.Cond, args[0], args[1], args[2], pos=pos)
        if name == "loop":
            return self._node(A.Loop, args[0], args[1], pos=pos)
        if name == "while":
            return self._node(A.While, args[0], pos=pos)
        if name in ("exec2", "exec3"):
            return self._node(A.Seq, tuple(args), pos=pos)
        if name in ("megabuf", "gmegabuf"):
            return self._node(A.Mem, name, args[0], pos=pos)
        if name == "assign":
            if not isinstance(args[0], (A.Var, A.Mem)):
                raise EELSyntax(pos, "assign(): first argument must be a variable or buffer cell")
            return self._node(A.Assign, "=", args[0], args[1], pos=pos)
        return self._node(A.Call, name, tuple(args), pos=pos)


    def _arguments(self, name: str, pos: int, arity: int) -> list:
        self._expect("(")
        self._enter(pos)
        args = []
        if not self._is(")"):
            args.append(self.sequence())
            while self._is(","):
                self.i += 1
                args.append(self.sequence())
        self._expect(")")
        self.nest -= 1
        if len(args) != arity:
            raise EELSyntax(pos, f"{name}() takes {arity} argument(s), got {len(args)}")
        return args

    def _internal(self, name: str, pos: int, kind: str, op: str):
        """An ns-eel2 internal name: the node its operator makes."""
        if kind == "special":
            return self._call(Token("name", op, pos))
        args = self._arguments(name, pos, 1 if kind == "unary" else 2)
        if kind == "unary":
            return self._node(A.Unary, op, args[0], pos=pos)
        if kind == "binary":
            return self._node(A.Binary, op, args[0], args[1], pos=pos)
        if not isinstance(args[0], (A.Var, A.Mem)):
            raise EELSyntax(pos, f"{name}(): first argument must be a variable or buffer cell")
        return self._node(A.Assign, op, args[0], args[1], pos=pos)


def _describe(t: Token) -> str:
    if t.kind == "eof":
        return "end of code"
    return f"'{t.text}'"
