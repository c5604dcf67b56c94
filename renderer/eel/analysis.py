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
    defined: set[str] = set()
    for stmt in program.statements:
        defined = _flow(stmt, defined, facts, conditional=False)
    return facts


def _flow(node, defined: set[str], facts: BlockFacts, conditional: bool) -> set[str]:
    """Walk in evaluation order; return the set of variables definitely written after it."""
    if isinstance(node, A.Num):
        return defined
    if isinstance(node, A.Var):
        if node.name not in defined:
            facts.early_reads.add(node.name)
        return defined
    if isinstance(node, A.Assign):
        if isinstance(node.target, A.Var):
            if node.op != "=" and node.target.name not in defined:
                facts.early_reads.add(node.target.name)
            defined = _flow(node.value, defined, facts, conditional)
            return defined | {node.target.name}
        defined = _flow(node.target.index, defined, facts, conditional)
        return _flow(node.value, defined, facts, conditional)
    if isinstance(node, A.Cond):
        defined = _flow(node.cond, defined, facts, conditional)
        d1 = _flow(node.then, set(defined), facts, True)
        d2 = _flow(node.other, set(defined), facts, True)
        return d1 & d2
    if isinstance(node, A.Binary) and node.op in ("&&", "||"):
        defined = _flow(node.left, defined, facts, conditional)
        _flow(node.right, set(defined), facts, True)
        return defined
    if isinstance(node, A.Loop):
        defined = _flow(node.count, defined, facts, conditional)
        _flow(node.body, set(defined), facts, True)
        return defined
    if isinstance(node, A.While):
        return _flow(node.body, defined, facts, True)
    if isinstance(node, A.Call) and node.name == "rand" and conditional:
        facts.conditional_rand = True
    for child in A.children(node):
        defined = _flow(child, defined, facts, conditional)
    return defined
