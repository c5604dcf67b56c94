"""EEL2 (ns-eel2) as MilkDrop presets use it: parser, analysis, scalar and numpy back ends.

    rt = Runtime(seed)                 # one per render: rand(), gmegabuf, reg00..reg99
    vm = VM(rt)                        # one variable namespace (per_frame, per_pixel, ...)
    block = compile_block(lines, "per_frame")   # EELError(section, line, col, message)
    block.run(vm)                      # scalar, in place on vm.vars
    out = block.run_many(vm, {"x": xs, "y": ys}, n, ["zoom", "rot"])   # vectorised if exact
"""
from .block import COMPILE_CACHE_SIZE, Block, clear_compile_cache, compile_block
from .errors import EELError
from .runtime import LOOP_BUDGET, LOOP_CAP, MEM_SIZE, VM, MemBuffer, Runtime

__all__ = ["Block", "compile_block", "clear_compile_cache", "COMPILE_CACHE_SIZE", "EELError", "Runtime", "VM", "MemBuffer",
           "LOOP_CAP", "LOOP_BUDGET", "MEM_SIZE"]
