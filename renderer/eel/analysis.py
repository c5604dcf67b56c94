"""Facts about a parsed block that decide how it may run.

* reads / writes: variable names the block touches.
* early_reads: variables read at a point where this run has not yet definitely written
  them -- they see the previous item's (point's, vertex's) value, so such a block carries
  state from one item to the next and cannot simply be evaluated for all items at once.
* vectorisable: no loop/while/megabuf/gmegabuf, and every rand() runs unconditionally
  (so the vectorised draw order can replay the sequential one exactly).
"""
from __future__ import annotations

from dataclasses import dataclass, field

from . import ast as A


@dataclass
class BlockFacts:
    reads: set[str] = field(default_factory=set)
    writes: set[str] = field(default_factory=set)
    early_reads: set[str] = field(default_factory=set)
    has_loops: bool = False
    has_memory: bool = False
    has_rand: bool = False
    conditional_rand: bool = False
    rand_sites: int = 0

    @property
    def vectorisable(self) -> bool:
        return not (self.has_loops or self.has_memory or self.conditional_rand)

    @property
    def carried(self) -> set[str]:
        return self.early_reads & self.writes


def analyse(program: A.Program) -> BlockFacts:
    facts = BlockFacts()
    plain_targets = set()
    for stmt in program.statements:
        for node in A.walk(stmt):
            if isinstance(node, A.Var):
                if id(node) not in plain_targets:
                    facts.reads.add(node.name)
            elif isinstance(node, A.Assign) and isinstance(node.target, A.Var):
                facts.writes.add(node.target.name)
                if node.op == "=":
                    plain_targets.add(id(node.target))   # walk() visits the target next
            elif isinstance(node, (A.Loop, A.While)):
                facts.has_loops = True
            elif isinstance(node, A.Mem):
                facts.has_memory = True
            elif isinstance(node, A.Call) and node.name == "rand":
                facts.has_rand = True
                facts.rand_sites += 1
    defined = _Defined()
    for stmt in program.statements:
        _flow(stmt, defined, facts, conditional=False)
    return facts


class _Defined:
    """Variables definitely written so far: a branch gets a child that sees its parent's names and
    records only its own, so a long program costs time linear in its length (copying the whole set
    at every branch or assignment was quadratic)."""

    __slots__ = ("parent", "names")

    def __init__(self, parent: "_Defined | None" = None):
        self.parent = parent
        self.names: set[str] = set()

    def __contains__(self, name: str) -> bool:
        scope = self
        while scope is not None:
            if name in scope.names:
                return True
            scope = scope.parent
        return False


def _flow(node, defined: _Defined, facts: BlockFacts, conditional: bool) -> None:
    """Walk in evaluation order, adding to ``defined`` the variables definitely written."""
    if isinstance(node, A.Num):
        return
    if isinstance(node, A.Var):
        if node.name not in defined:
            facts.early_reads.add(node.name)
        return
    if isinstance(node, A.Assign):
        if isinstance(node.target, A.Var):
            if node.op != "=" and node.target.name not in defined:
                facts.early_reads.add(node.target.name)
            _flow(node.value, defined, facts, conditional)
            defined.names.add(node.target.name)
            return
        _flow(node.target.index, defined, facts, conditional)
        _flow(node.value, defined, facts, conditional)
        return
    if isinstance(node, A.Cond):
        _flow(node.cond, defined, facts, conditional)
        then, other = _Defined(defined), _Defined(defined)
        _flow(node.then, then, facts, True)
        _flow(node.other, other, facts, True)
        defined.names |= then.names & other.names
        return
    if isinstance(node, A.Binary) and node.op in ("&&", "||"):
        _flow(node.left, defined, facts, conditional)
        _flow(node.right, _Defined(defined), facts, True)
        return
    if isinstance(node, A.Loop):
        _flow(node.count, defined, facts, conditional)
        _flow(node.body, _Defined(defined), facts, True)
        return
    if isinstance(node, A.While):
        _flow(node.body, defined, facts, True)
        return
    if isinstance(node, A.Call) and node.name == "rand" and conditional:
        facts.conditional_rand = True
    for child in A.children(node):
        _flow(child, defined, facts, conditional)
