"""Fixtures shared by several test files. Plain values and functions live in tests/helpers.py."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from evo.seeds import seed_paths


@pytest.fixture(scope="module")
def ctx():
    """A standalone GL context (EGL) for tests that drive shader passes directly."""
    moderngl = pytest.importorskip("moderngl")
    c = moderngl.create_standalone_context(backend="egl")
    yield c
    c.release()


@pytest.fixture(scope="module")
def seeds_dir(tmp_path_factory) -> Path:
    """A private copy of the shipped seed presets (a run's seed folder)."""
    d = tmp_path_factory.mktemp("seeds")
    for p in seed_paths():
        shutil.copy(p, d / p.name)
    return d


@pytest.fixture
def runs(tmp_path, monkeypatch) -> Path:
    """An empty runs folder that the UI (LIANDAN_RUNS_DIR) reads."""
    root = tmp_path / "runs"
    root.mkdir()
    monkeypatch.setenv("LIANDAN_RUNS_DIR", str(root))
    return root


@pytest.fixture(scope="session")
def mined_corpus(tmp_path_factory):
    """A small real corpus (tests/mining_helpers.make_corpus) mined once at the tiny mining render:
    (corpus folder, dataset folder, MineSummary). Tests that change it work on a copy."""
    from evo.mining.mine import mine
    from mining_helpers import TINY, make_corpus

    corpus = make_corpus(tmp_path_factory.mktemp("mining_corpus"))
    out = tmp_path_factory.mktemp("mining_dataset") / "ds"
    return corpus, out, mine([corpus], out, settings=TINY, workers=1)
