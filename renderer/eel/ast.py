"""Parse tree for EEL2 as MilkDrop presets use it.

Both back ends (scalar Python, vectorised numpy) are generated from these nodes only, so
the tree is the single place where preset text turns into something executable. Each node
records `pos` (char offset in the joined block text) for error messages, and `depth`
(height of the subtree) so hostile nesting is rejected before any recursive pass runs.
"""
from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class Num:
    value: float
    pos: int = 0
    depth: int = 1


@dataclass(frozen=True, slots=True)
class Var:
    name: str          # lower-case
    pos: int = 0
    depth: int = 1


@dataclass(frozen=True, slots=True)
class Mem:
    """megabuf(i) / gmegabuf(i): a value and an assignable place."""
    buf: str           # 'megabuf' | 'gmegabuf'
    index: "Node"
    pos: int = 0
    depth: int = 1


@dataclass(frozen=True, slots=True)
class Unary:
    op: str            # '-', '+', '!'
    operand: "Node"
    pos: int = 0
    depth: int = 1


@dataclass(frozen=True, slots=True)
class Binary:
    op: str            # + - * / % ^ & | < > <= >= == != && ||
    left: "Node"
    right: "Node"
    pos: int = 0
    depth: int = 1


@dataclass(frozen=True, slots=True)
class Cond:
    """if(c, a, b) and c ? a : b: only the chosen branch is evaluated."""
    cond: "Node"
    then: "Node"
    other: "Node"
    pos: int = 0
    depth: int = 1


@dataclass(frozen=True, slots=True)
class Assign:
    op: str            # '=', '+=', '-=', '*=', '/=', '%=', '^=', '&=', '|='
    target: "Var | Mem"
    value: "Node"
    pos: int = 0
    depth: int = 1


@dataclass(frozen=True, slots=True)
class Call:
    """A pure built-in (sin, above, rand, ...); loops and buffers have their own nodes."""
    name: str
    args: tuple
    pos: int = 0
    depth: int = 1


@dataclass(frozen=True, slots=True)
class Loop:
    count: "Node"
    body: "Node"
    pos: int = 0
    depth: int = 1


@dataclass(frozen=True, slots=True)
class While:
    body: "Node"
    pos: int = 0
    depth: int = 1


@dataclass(frozen=True, slots=True)
class Seq:
    """`a; b; c` inside parentheses or arguments, exec2/exec3: value of the last item."""
    items: tuple
    pos: int = 0
    depth: int = 1


Node = Num | Var | Mem | Unary | Binary | Cond | Assign | Call | Loop | While | Seq


@dataclass(slots=True)
class Program:
    """A whole code block: top-level statements in order; ``skipped`` holds the EELSyntax of
    each statement left out (parse(..., skip_bad_statements=True))."""
    statements: list = field(default_factory=list)
    text: str = ""
    skipped: list = field(default_factory=list)


def children(node) -> tuple:
    """Direct sub-nodes in evaluation order (the order both back ends evaluate them)."""
    if isinstance(node, (Num, Var)):
        return ()
    if isinstance(node, Mem):
        return (node.index,)
    if isinstance(node, Unary):
        return (node.operand,)
    if isinstance(node, Binary):
        return (node.left, node.right)
    if isinstance(node, Cond):
        return (node.cond, node.then, node.other)
    if isinstance(node, Assign):
        return (node.target, node.value)
    if isinstance(node, Call):
        return tuple(node.args)
    if isinstance(node, Loop):
        return (node.count, node.body)
    if isinstance(node, While):
        return (node.body,)
    if isinstance(node, Seq):
        return tuple(node.items)
    raise TypeError(f"not an EEL node: {node!r}")


def walk(node):
    """All nodes of a subtree, parents before children (iterative: safe on any depth)."""
    stack = [node]
    while stack:
        n = stack.pop()
        yield n
        stack.extend(reversed(children(n)))
