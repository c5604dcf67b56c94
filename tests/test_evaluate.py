"""evo.evaluate: Dask workers survive crashing and hanging candidates; results keyed by task."""

from __future__ import annotations

import os
import time

import pytest

from evo.evaluate import DaskEvaluator, InProcessEvaluator, Task
from evo.fitness.score import WORST_SCORE
from helpers import eval_settings


def fake_task(genome_json, settings, out_dir):
    """Stands in for rendering: behaves as the genome tells it (runs inside a spawned worker)."""
    kind = genome_json["kind"]
    if kind == "crash":
        os._exit(3)  # the whole worker process dies, like a segfault in the GL driver
    if kind == "hang":
        time.sleep(3600)
    if kind == "slow":
        time.sleep(0.2)
    return {"score": float(genome_json["value"]), "stats": {"pid": os.getpid()}, "degenerate": None, "error": None,
            "warnings": [], "seconds": 0.0}


@pytest.mark.slow
def test_crashing_and_hanging_candidates_get_errors_and_the_rest_finish():
    settings = eval_settings(timeout_s=0.5)
    ev = DaskEvaluator(settings, workers=2, task=fake_task)
    try:
        import dask

        ev.start = _start_without_warmup.__get__(ev)  # no GL needed for the fake task
        ev.start()
        tasks = [Task(f"ok{i}", {"kind": "ok", "value": i}, None) for i in range(4)]
        tasks.insert(1, Task("crash", {"kind": "crash"}, None))
        tasks.insert(3, Task("hang", {"kind": "hang"}, None))
        t0 = time.monotonic()
        results = dict(ev.run(tasks))
        elapsed = time.monotonic() - t0
        assert set(results) == {t.key for t in tasks}
        assert results["crash"]["score"] == WORST_SCORE and "crashed" in results["crash"]["error"]
        assert results["hang"]["score"] == WORST_SCORE and "hung" in results["hang"]["error"]
        for i in range(4):
            assert results[f"ok{i}"]["score"] == i and results[f"ok{i}"]["error"] is None
        assert elapsed < 60
        # the cluster still works after losing two workers (on a loaded machine the restarted
        # workers can take longer than this test's 0.5 s timeout to come up: up to 3 tries)
        for _ in range(3):
            again = dict(ev.run([Task("after", {"kind": "ok", "value": 7}, None)]))
            if again["after"]["error"] is None:
                break
        assert again["after"]["score"] == 7, again
        assert dask.config.get("distributed.scheduler.allowed-failures") == 0
    finally:
        ev.close()


def _scheduler_view(dask_scheduler):
    return len(dask_scheduler.queued), sorted(len(ws.processing) for ws in dask_scheduler.workers.values())


@pytest.mark.slow
def test_a_big_batch_waits_on_the_scheduler_and_each_worker_holds_one_task():
    # the queue lives on the scheduler, so no task sits on a worker behind another one that
    # could crash it, and a worker gets its next task without a round trip through the driver
    ev = DaskEvaluator(eval_settings(timeout_s=30), workers=2, task=fake_task)
    try:
        ev.start = _start_without_warmup.__get__(ev)
        ev.start()
        tasks = [Task(f"s{i}", {"kind": "slow", "value": i}, None) for i in range(12)]
        results, views = {}, []
        for key, result in ev.run(tasks):
            results[key] = result
            views.append(ev.client.run_on_scheduler(_scheduler_view))
        assert {k: r["score"] for k, r in results.items()} == {f"s{i}": i for i in range(12)}
        assert max(q for q, _ in views[:4]) >= 4  # most of the batch was queued there
        assert all(max(p, default=0) <= 1 for _, p in views)
        assert len({r["stats"]["pid"] for r in results.values()}) == 2

        # a caller that stops reading cancels the rest of its batch
        gen = ev.run([Task(f"t{i}", {"kind": "slow", "value": i}, None) for i in range(12)])
        next(gen)
        gen.close()
        deadline = time.monotonic() + 10
        while ev.client.run_on_scheduler(_scheduler_view) != (0, [0, 0]) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert ev.client.run_on_scheduler(_scheduler_view) == (0, [0, 0])
    finally:
        ev.close()


def _start_without_warmup(self):
    """DaskEvaluator.start minus the GL warm-up (the fake task renders nothing)."""
    import logging

    import dask
    from distributed import Client, LocalCluster

    from evo.evaluate import quiet_dask_logging

    quiet_dask_logging()
    dask.config.set({"distributed.scheduler.allowed-failures": 0, "distributed.scheduler.worker-saturation": 1.0,
                     "distributed.worker.multiprocessing-method": "spawn", "distributed.scheduler.work-stealing": False})
    self.cluster = LocalCluster(n_workers=self.workers, threads_per_worker=1, processes=True, host="127.0.0.1",
                                dashboard_address=None, silence_logs=logging.ERROR, memory_limit=0)
    self.client = Client(self.cluster)


def test_in_process_evaluator_reports_bad_genomes_as_errors(tmp_path):
    settings = eval_settings(width=32, height=32, frames=12, skip=2, sample_every=2, mesh=(8, 6))
    ev = InProcessEvaluator(settings)
    try:
        ev.start()
        results = dict(ev.run([Task("junk", "not a preset: no [preset00] section\n", str(tmp_path / "junk"))]))
    finally:
        ev.close()
    assert results["junk"]["score"] == WORST_SCORE
    assert results["junk"]["error"]
    assert not (tmp_path / "junk" / "preview.webp").exists()
