"""How ``liandan info`` prints a preset's shader status (renderer.shaders.status says what it is)."""

from __future__ import annotations

from rich.console import Console
from rich.markup import escape

from renderer.milk.preset import Preset
from renderer.shaders.status import SHADER_STAGES, ShaderProbe, ShaderStatus, reason_lines, short_reason


def print_shader_status(console: Console, preset: Preset, statuses: list[ShaderStatus],
                         probe: ShaderProbe | None) -> None:
    by_stage = {st.stage: st for st in statuses}
    for stage, ps in zip(SHADER_STAGES, preset.shader_versions()):
        st = by_stage.get(stage)
        if st is None:
            console.print(f"{stage} shader: none" + (" (MilkDrop generates one from the parameters)" if ps else ""))
            continue
        runs = "" if ps else " [yellow](not run: PS version 0)[/]"
        console.print(f"{stage} shader: {st.lines} lines, PS version {ps}{runs}")
        if not ps:
            continue
        if not st.translates:
            console.print(f"  translates: [red]no[/] -> the {stage} stage falls back to MilkDrop 1")
            for ln in reason_lines(st.translate_error or ""):
                console.print(f"    [red]{escape(ln)}[/]")
            continue
        if st.compiles is None:
            why = "skipped (--no-gl)" if probe is None else f"unknown: {probe.unavailable}"
            console.print(f"  translates: [green]ok[/]  compiles: {escape(why)}")
        elif st.compiles:
            tail = "" if st.render_error else f" -> renders with the {stage} shader"
            console.print(f"  translates: [green]ok[/]  compiles: [green]ok[/]{tail}")
        else:
            console.print(f"  translates: [green]ok[/]  compiles: [red]no[/] -> the {stage} stage falls back to MilkDrop 1")
            for ln in reason_lines(st.compile_error or ""):
                console.print(f"    [red]{escape(ln)}[/]")
        if st.render_error:
            console.print(f"  [red]fails while rendering[/] -> falls back to MilkDrop 1: {escape(short_reason(st.render_error))}")


