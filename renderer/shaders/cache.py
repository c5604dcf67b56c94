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
_MAX_TRANSLATIONS = 4096


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
    def __init__(self, ctx, max_programs: int = 2048):
        self.ctx = ctx
        self.max_programs = max_programs
        self.programs: OrderedDict = OrderedDict()
        self.hits = 0
        self.misses = 0

    def get(self, vertex: str, fragment: str):
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
        if len(self.programs) > self.max_programs:
            # dropped, not released: a live pass may still draw with it
            self.programs.popitem(last=False)
        if isinstance(prog, GLSLCompileError):
            raise prog
        return prog


_CACHES: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()


def program_cache(ctx) -> ProgramCache:
    cache = _CACHES.get(ctx)
    if cache is None:
        cache = _CACHES[ctx] = ProgramCache(ctx)
    return cache
