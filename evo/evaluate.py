"""Candidate evaluation in this process or on Dask distributed worker processes.

Each worker process keeps one Renderer (one GL context) and one audio analyzer in a module
global, made lazily by the first task that needs them and reused for every later candidate:
creating a context and synthesising the music cost far more than rendering one candidate.
Workers are *spawned* (never forked: forking after a GL context exists can hang llvmpipe) and
run one thread each with ``LP_NUM_THREADS=0`` (measured here: two single-threaded processes
are the fastest arrangement on two cores, 10.8-11.3 candidates/s against 7-9.8 with threads).

Failure handling, in order of how often it happens:
- the candidate raises (bad code, NaNs, a shader that will not compile): ``evaluate_genome``
  turns it into an error record with the worst score;
- the candidate is slow: the render loop checks a deadline between frames (cooperative);
- the candidate hangs inside one call or crashes the process: only with Dask workers, the
  driver notices (hard timeout / KilledWorker), restarts that worker and records an error.
Both evaluators return results keyed by task, so the engine orders them itself and the run
never depends on which worker finished first.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from dataclasses import dataclass
from typing import Iterator

from evo.config import EvalSettings
from evo.fitness.candidate import evaluate_preset, make_analyzer, make_renderer
from evo.fitness.score import WORST_SCORE

HARD_TIMEOUT_GRACE_S = 15.0
_POLL_S = 0.25

# ---------------------------------------------------------------- worker side

_WORKER: dict[str, object] = {}
_GL_THREAD = None  # one thread owns the GL context: EGL contexts are current on one thread only


def _gl_thread():
    """The process's GL thread. Dask runs tasks on executor threads (and ``client.run`` on yet
    another), so every GL call is funnelled through this single long-lived thread."""
    global _GL_THREAD
    if _GL_THREAD is None:
        from concurrent.futures import ThreadPoolExecutor

        _GL_THREAD = ThreadPoolExecutor(max_workers=1, thread_name_prefix="liandan-gl")
    return _GL_THREAD


def worker_resources(settings: EvalSettings):
    """This process's renderer and analyzer for ``settings`` (made once, then reused)."""
    rkey, akey = ("renderer",) + settings.render_key(), ("audio",) + settings.audio_key()
    if _WORKER.get("rkey") != rkey:
        old = _WORKER.pop("renderer", None)
        if old is not None and hasattr(old, "release"):
            old.release()
        _WORKER["renderer"] = make_renderer(settings)
        _WORKER["rkey"] = rkey
    if _WORKER.get("akey") != akey:
        _WORKER["analyzer"] = make_analyzer(settings)
        _WORKER["akey"] = akey
    return _WORKER["renderer"], _WORKER["analyzer"]


def evaluate_task(milk_text: str, settings: EvalSettings, out_dir: str | None) -> dict:
    """The function a Dask worker runs for one candidate (picklable by reference)."""
    return _gl_thread().submit(evaluate_here, milk_text, settings, out_dir).result()


def evaluate_here(milk_text: str, settings: EvalSettings, out_dir: str | None) -> dict:
    """Evaluate on the calling thread (which must be the thread that uses this process's GL)."""
    try:
        renderer, analyzer = worker_resources(settings)
    except Exception as exc:  # noqa: BLE001 - no GL here is an error for this candidate, not a crash
        return error_result(f"worker cannot render: {type(exc).__name__}: {exc}")
    return evaluate_preset(milk_text, settings, renderer, analyzer, out_dir)


def warm_up(settings: EvalSettings) -> bool:
    _gl_thread().submit(worker_resources, settings).result()
    return True


def error_result(message: str, seconds: float = 0.0) -> dict:
    return {"score": WORST_SCORE, "stats": {}, "degenerate": None, "error": message, "warnings": [], "seconds": seconds}


# ---------------------------------------------------------------- driver side


@dataclass
class Task:
    key: str  # individual id
    milk: str  # the candidate's .milk text, exactly as saved in its folder
    out_dir: str | None  # where previews go


class InProcessEvaluator:
    """``workers = 0``: no isolation (a segfault ends the run) but no start-up cost either."""

    workers = 0

    def __init__(self, settings: EvalSettings):
        self.settings = settings
        os.environ.setdefault("LP_NUM_THREADS", "0")

    def start(self) -> None:
        worker_resources(self.settings)

    def run(self, tasks: list[Task]) -> Iterator[tuple[str, dict]]:
        for t in tasks:  # on the caller's thread: the engine's main thread owns GL in this mode
            yield t.key, evaluate_here(t.milk, self.settings, t.out_dir)

    def close(self) -> None:
        _release_resources()


def _release_resources() -> None:
    r = _WORKER.pop("renderer", None)
    _WORKER.pop("rkey", None)
    if r is not None and hasattr(r, "release"):
        r.release()


class DaskEvaluator:
    """A LocalCluster of spawned single-threaded worker processes, or an existing scheduler."""

    def __init__(self, settings: EvalSettings, workers: int = 2, address: str | None = None, task=None):
        self.task = task or evaluate_task  # any picklable f(milk_text, settings, out_dir) -> result
        self.settings = settings
        self.workers = workers
        self.address = address
        self.cluster = None
        self.client = None
        self._serial = 0
        self._slots = (0.0, 0)  # (when asked, worker threads): asked again at most once a second
        self._seen_at = 0.0  # when the scheduler was last asked what is processing

    def start(self) -> None:
        import dask
        from distributed import Client, LocalCluster

        os.environ["LP_NUM_THREADS"] = "0"  # inherited by the spawned workers
        quiet_dask_logging()
        dask.config.set(
            {
                "distributed.worker.multiprocessing-method": "spawn",
                "distributed.scheduler.allowed-failures": 0,  # a crashing candidate fails at once
                "distributed.scheduler.worker-saturation": 1.0,  # one task per worker: no bystanders
                "distributed.worker.daemon": False,
                "distributed.admin.tick.limit": "1h",
                "distributed.deploy.lost-worker-timeout": "5s",
                "distributed.scheduler.work-stealing": False,
                "distributed.worker.profile.enabled": False,  # its sampling thread costs the GL thread ~10%
                # Monitoring only (event-loop lag, dashboard metrics): at their defaults (tick 20 ms,
                # psutil 500 ms) an idle worker burns 16 ms CPU a second, 3 ms with these, and the
                # driver's scheduler shares the same two cores with the workers.
                "distributed.admin.tick.interval": "500ms",
                "distributed.admin.system-monitor.interval": "2s",
                "distributed.admin.system-monitor.disk": False,
                "distributed.admin.system-monitor.gil.enabled": False,
                # Dask's nanny sets MALLOC_TRIM_THRESHOLD_=65536 in workers; frame buffers are then
                # returned to the OS and refetched every candidate (~14% more CPU per candidate).
                "distributed.nanny.pre-spawn-environ.MALLOC_TRIM_THRESHOLD_": 2**30,
            }
        )
        if self.address:
            self.client = Client(self.address)
        else:
            self.cluster = LocalCluster(
                n_workers=self.workers,
                threads_per_worker=1,
                processes=True,
                host="127.0.0.1",
                dashboard_address=None,
                silence_logs=logging.ERROR,
                memory_limit=0,
            )
            self.client = Client(self.cluster)
        self.client.run(warm_up, self.settings)

    def run(self, tasks: list[Task]) -> Iterator[tuple[str, dict]]:
        """Results as they finish; see ``_submit`` for how tasks reach the workers.

        The hard timeout counts from when the scheduler first lists a task as processing on a
        worker (checked at most once a second), not from its submission: a big batch is
        submitted at once and most of it waits in the scheduler's queue.
        """
        from collections import deque

        from distributed import wait

        queue = deque(tasks)
        inflight: dict = {}  # future -> task
        started: dict = {}  # future -> when first seen processing
        timeout = self.settings.fitness.timeout_s
        hard_limit = timeout + min(HARD_TIMEOUT_GRACE_S, max(2.0, timeout))
        try:
            while queue or inflight:
                self._submit(queue, inflight)
                try:
                    done, _ = wait(list(inflight), timeout=_POLL_S, return_when="FIRST_COMPLETED")
                except TimeoutError:
                    done = set()
                for fut in done:
                    t = inflight.pop(fut)
                    started.pop(fut, None)
                    yield t.key, self._result(fut)
                yield from self._stop_late(inflight, started, hard_limit)
        finally:  # also when the caller stops iterating: nothing of this batch keeps running
            for fut in inflight:
                fut.cancel()

    def _submit(self, queue, inflight: dict) -> None:
        """Hand tasks to Dask. A batch more than twice the worker threads goes in one
        ``client.map``: Dask then treats it as root tasks and, with worker-saturation 1.0, keeps
        it queued on the scheduler, sending a worker its next task the moment it reports the
        last one done (~2 ms) instead of after a round trip through this loop (~15 ms, 8% of a
        candidate on two busy cores), and never parking a task on a worker behind another that
        may crash it. A smaller batch would not be queued (Dask would place it on workers at
        once), so it goes one task per worker thread at a time."""
        if not queue:
            return
        threads = max(1, self._capacity())
        if len(queue) + len(inflight) > 2 * threads:
            batch = list(queue)
            queue.clear()
        else:
            batch = [queue.popleft() for _ in range(min(len(queue), threads - len(inflight)))]
        if not batch:
            return
        n = len(batch)
        keys = [f"evaluate-{self._serial + i}" for i in range(1, n + 1)]
        self._serial += n
        futures = self.client.map(self.task, [t.milk for t in batch], [self.settings] * n, [t.out_dir for t in batch],
                                  key=keys, pure=False)
        inflight.update(zip(futures, batch))

    def _stop_late(self, inflight: dict, started: dict, hard_limit: float) -> Iterator[tuple[str, dict]]:
        """Error results for tasks processing longer than ``hard_limit``; their workers restart."""
        now = time.monotonic()
        if now - self._seen_at < 1.0 or not inflight:
            return
        self._seen_at = now
        by_key = {str(f.key): f for f in inflight}
        where: dict[str, str] = {}
        for worker, keys in self._processing().items():
            for k in keys:
                if k in by_key:
                    where[k] = worker
                    started.setdefault(by_key[k], now)
        for k, worker in where.items():
            fut = by_key[k]
            if now - started[fut] <= hard_limit:
                continue
            t = inflight.pop(fut)
            fut.cancel()
            seconds = now - started.pop(fut)
            threading.Thread(target=self._restart, args=(worker,), daemon=True).start()  # the others go on
            yield t.key, error_result(f"hung: killed after {hard_limit:g} s", seconds)

    def _capacity(self) -> int:
        """Worker threads now (a round trip to the scheduler, so asked at most once a second:
        on two cores the driver's CPU is taken from the workers)."""
        now = time.monotonic()
        if now - self._slots[0] >= 1.0:
            try:
                self._slots = (now, sum(self.client.nthreads().values()))
            except Exception:  # noqa: BLE001
                self._slots = (now, self.workers)
        return self._slots[1]

    def _result(self, fut) -> dict:
        try:
            return fut.result()
        except Exception as exc:  # noqa: BLE001 - KilledWorker (crash), CancelledError, ...
            name = type(exc).__name__
            if name == "KilledWorker":
                return error_result("crashed: the worker process died while rendering this candidate")
            return error_result(f"{name}: {exc}"[:2000])

    def _processing(self) -> dict[str, list[str]]:
        try:
            return {w: [str(k) for k in keys] for w, keys in self.client.processing().items()}
        except Exception:  # noqa: BLE001 - monitoring must never end the run
            return {}

    def _restart(self, worker: str) -> None:
        try:
            self.client.restart_workers([worker], timeout=60, raise_for_error=False)
        except Exception:  # noqa: BLE001
            pass

    def close(self) -> None:
        for thing in (self.client, self.cluster):
            if thing is not None:
                try:
                    thing.close()
                except Exception:  # noqa: BLE001
                    pass
        self.client = self.cluster = None


def quiet_dask_logging() -> None:
    """Dask logs start-up chatter and tracebacks of candidates we already record: keep it out."""
    for name in ("distributed", "distributed.nanny", "distributed.scheduler", "distributed.worker", "distributed.core",
                 "distributed.utils_perf", "distributed.shuffle", "bokeh", "tornado"):
        logging.getLogger(name).setLevel(logging.CRITICAL)


def make_evaluator(settings: EvalSettings, workers: int, address: str | None = None):
    if workers <= 0 and not address:
        return InProcessEvaluator(settings)
    return DaskEvaluator(settings, workers=max(1, workers), address=address)
