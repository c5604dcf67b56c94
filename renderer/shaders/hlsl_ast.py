"""Syntax tree for MilkDrop's HLSL subset; the emitter walks it to type-check and write GLSL."""
from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Node:
    line: int


# ---- expressions -------------------------------------------------------------------------------
@dataclass
class Num(Node):
    text: str
    is_float: bool


@dataclass
class BoolLit(Node):
    value: bool


@dataclass
class Ident(Node):
    name: str


@dataclass
class Call(Node):
    name: str            # function, intrinsic or type name (constructor)
    args: list


@dataclass
class Member(Node):
    obj: object
    field: str


@dataclass
class Index(Node):
    obj: object
    index: object


@dataclass
class Unary(Node):
    op: str              # '-', '+', '!', '~', '++', '--' (prefix)
    expr: object


@dataclass
class Postfix(Node):
    op: str              # '++' | '--'
    expr: object


@dataclass
class Binary(Node):
    op: str
    left: object
    right: object


@dataclass
class Assign(Node):
    op: str              # '=', '+=', ...
    target: object
    value: object


@dataclass
class Ternary(Node):
    cond: object
    a: object
    b: object


@dataclass
class Comma(Node):
    items: list


@dataclass
class Cast(Node):
    type_name: str
    expr: object


@dataclass
class InitList(Node):
    items: list


# ---- statements --------------------------------------------------------------------------------
@dataclass
class Declarator:
    name: str
    line: int
    array: object = None      # the size expression of `name[N]`
    init: object = None
    is_array: bool = False    # `name[N]` or `name[]`


@dataclass
class VarDecl(Node):
    type_name: str
    decls: list
    qualifiers: set = field(default_factory=set)


@dataclass
class Block(Node):
    stmts: list


@dataclass
class ExprStmt(Node):
    expr: object


@dataclass
class If(Node):
    cond: object
    then: object
    other: object = None


@dataclass
class For(Node):
    init: object
    cond: object
    step: object
    body: object


@dataclass
class While(Node):
    cond: object
    body: object


@dataclass
class DoWhile(Node):
    body: object
    cond: object


@dataclass
class Return(Node):
    expr: object = None


@dataclass
class Jump(Node):
    kind: str            # 'break' | 'continue' | 'discard'


@dataclass
class Empty(Node):
    pass


# ---- top level ---------------------------------------------------------------------------------
@dataclass
class Param:
    qualifier: str       # '', 'in', 'out', 'inout'
    type_name: str
    name: str
    line: int


@dataclass
class FuncDef(Node):
    ret_type: str
    name: str
    params: list
    body: Block | None   # None for a prototype


@dataclass
class ShaderBody(Node):
    body: Block


@dataclass
class Program:
    items: list          # VarDecl | FuncDef | ShaderBody
