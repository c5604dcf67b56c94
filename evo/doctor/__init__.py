"""The preset doctor: what is wrong with a preset, where in the file, and a verified repair.

    from evo.doctor.session import doctor
    run = doctor(["presets/"], out="fixed/", repair=True)     # liandan doctor presets/ --repair -o fixed/

findings.py (Finding, Diagnosis) -> static.py and probe.py (the file, and its equations run without
GL) -> rendered.py (a short render) -> diagnose.py (one file) -> repair.py / enhance.py -> folder.py
(the worker job) -> session.py (one command: outputs, manifest, sheets) -> report.py (HTML, JSON).
"""
