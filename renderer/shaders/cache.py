"""Compiled-program cache keyed by GLSL source, one per GL context.

A GA renders many children whose shader text equals a parent's; compiling costs 2-90 ms each on
llvmpipe, so programs are reused by source, and failures are remembered too (a broken shader is
not recompiled for every child).  Translation results are cached by HLSL text for the same reason.
"""
from __future__ import annotations

import weakref
from collections import OrderedDict

from .translate import ShaderError, TranslatedShader, translate

_TRANSLATIONS: OrderedDict = OrderedDict()
_MAX_TRANSLATIONS = 1024   # translating is cheap (~1 ms); the GLSL text is not small


def translate_cached(hlsl: str, stage: str) -> TranslatedShader:
    key = (stage, hlsl)
    hit = _TRANSLATIONS.get(key)
    if hit is not None:
        _TRANSLATIONS.move_to_end(key)
        if isinstance(hit, ShaderError):
            raise hit
        return hit
    try:
        res = translate(hlsl, stage)
    except ShaderError as e:
        res = e
    _TRANSLATIONS[key] = res
    if len(_TRANSLATIONS) > _MAX_TRANSLATIONS:
        _TRANSLATIONS.popitem(last=False)
    if isinstance(res, ShaderError):
        raise res
    return res


class GLSLCompileError(Exception):
    """The GL driver rejected generated GLSL; carries the compiler log."""


class ProgramCache:
    """Bounded LRU of compiled programs, with reference counts.

    A long GA run meets thousands of distinct shader texts; each program holds llvmpipe JIT code,
    so the cache keeps at most ``max_programs`` entries.  Passes `acquire` a program and `release`
    it when they are done; only entries nobody holds are evicted (and their GL program freed), so
    a live pass never draws with a released program.  While every entry is held the cache may
    exceed its bound until passes let go.  Compile failures are cached (no GL object) so a broken
    shader is not recompiled for every child.
    """

    def __init__(self, ctx, max_programs: int = 256):
        self.ctx = ctx
        self.max_programs = int(max_programs)
        self.programs: OrderedDict = OrderedDict()   # key -> program | GLSLCompileError
        self._refs: dict = {}                        # key -> live acquisitions (pinned: -1)
        self._key_of: dict = {}                      # id(program) -> key
        self.hits = 0
        self.misses = 0
        self.evictions = 0

    def acquire(self, vertex: str, fragment: str):
        """The compiled program (raises GLSLCompileError); pair each call with `release`."""
        prog = self._lookup(vertex, fragment)
        key = (vertex, fragment)
        if self._refs.get(key, 0) >= 0:
            self._refs[key] = self._refs.get(key, 0) + 1
        return prog

    def get(self, vertex: str, fragment: str):
        """The compiled program, pinned for the cache's lifetime (for a few fixed programs)."""
        prog = self._lookup(vertex, fragment)
        self._refs[(vertex, fragment)] = -1
        return prog

    def release(self, program) -> None:
        key = self._key_of.get(id(program))
        if key is None or self._refs.get(key, 0) <= 0:
            return
        self._refs[key] -= 1
        self._evict()

    def in_use(self, program) -> int:
        key = self._key_of.get(id(program))
        return self._refs.get(key, 0) if key is not None else 0

    def _lookup(self, vertex: str, fragment: str):
        key = (vertex, fragment)
        hit = self.programs.get(key)
        if hit is not None:
            self.hits += 1
            self.programs.move_to_end(key)
            if isinstance(hit, GLSLCompileError):
                raise hit
            return hit
        self.misses += 1
        try:
            prog = self.ctx.program(vertex_shader=vertex, fragment_shader=fragment)
        except Exception as e:   # moderngl raises a plain Error with the compiler log
            prog = GLSLCompileError(str(e).strip())
        self.programs[key] = prog
        if not isinstance(prog, GLSLCompileError):
            self._key_of[id(prog)] = key
        self._evict(keep=key)
        if isinstance(prog, GLSLCompileError):
            raise prog
        return prog

    def _evict(self, keep=None) -> None:
        excess = len(self.programs) - self.max_programs
        if excess <= 0:
            return
        for key in list(self.programs):
            if excess <= 0:
                break
            if key == keep or self._refs.get(key, 0) != 0:
                continue
            prog = self.programs.pop(key)
            self._refs.pop(key, None)
            if not isinstance(prog, GLSLCompileError):
                self._key_of.pop(id(prog), None)
                prog.release()
            self.evictions += 1
            excess -= 1

    def clear(self) -> None:
        """Free every program nobody holds (tests, and before releasing a context)."""
        bound, self.max_programs = self.max_programs, 0
        self._evict()
        self.max_programs = bound


_CACHES: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()


def program_cache(ctx) -> ProgramCache:
    cache = _CACHES.get(ctx)
    if cache is None:
        cache = _CACHES[ctx] = ProgramCache(ctx)
    return cache
