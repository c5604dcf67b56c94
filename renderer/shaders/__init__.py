"""MilkDrop 2 shaders: HLSL -> GLSL translation, shader environment, warp/comp passes, blur, noise, textures.

Entry points: `translate(hlsl, stage)` and `ShaderStages(ctx, preset, seed, textures_dir)`;
see passes.py for how the renderer wires the passes in.
"""
from .hlsl_lexer import ShaderError
from .prelude import SamplerRef
from .translate import TranslatedShader, translate

__all__ = ["translate", "TranslatedShader", "ShaderError", "SamplerRef"]
