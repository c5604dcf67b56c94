"""``python -m ui.cli``: the ``liandan`` command without the installed entry point (the UI's subprocesses)."""

from ui.cli import main

main()
