"""Running the analysis over many files: cache, isolated worker processes, deterministic order.

Every file is analysed in isolation.  Workers are plain processes fed one file at a time over a
pipe; a worker that dies (even a hard crash of a native parser) or exceeds the time limit costs
only its current file, which becomes a TXL000 diagnostic, and a fresh worker takes its place.
"""

from __future__ import annotations

import collections
import gc
import multiprocessing
import os
import sys
import time
from dataclasses import dataclass, field
from multiprocessing.connection import wait

from txlint.analysis import analyze, error_result, project_for
from txlint.cache import Cache
from txlint.context import Options
from txlint.diagnostics import FileResult
from txlint.discovery import Target
from txlint.registry import PYTHON
from txlint.source import SourceError, read_bytes

#: a single file analysed longer than this is given up (TXL000) so that the run finishes
FILE_TIME_LIMIT = 120.0
#: files up to this size are analysed in-process when they are the only ones left (start-up speed)
IN_PROCESS_BYTES = 512 * 1024


@dataclass
class RunStats:
    files: int = 0
    cached: int = 0
    analysed: int = 0
    crashed: int = 0
    seconds: float = 0.0
    notes: list[str] = field(default_factory=list)


def _analyze_target(target: Target, options: Options, data: bytes | None = None,
                    text: str | None = None) -> tuple[FileResult, list[str]]:
    """Analyse one target; returns the result and the project files the analysis read."""
    if target.error:
        return error_result(target.display, target.error), []
    project = project_for(target.path, options) if target.path != "-" else None
    if project is not None:
        project.touched = set()
    try:
        if text is None and data is not None and target.kind == PYTHON:
            from txlint.source import decode

            text = decode(data)
        elif text is None and data is not None:
            text = data.decode("utf-8-sig")
    except SourceError as exc:
        return error_result(target.display, exc.message, exc.line, exc.column), []
    except UnicodeDecodeError as exc:  # the same report as a worker that reads the file itself
        return error_result(target.display, f"cannot decode as UTF-8: {exc.reason}",
                            data[: exc.start].count(b"\n") + 1), []
    try:
        result = analyze(target.path, target.display, options, text=text, kind=target.kind, data=data)
    except Exception as exc:  # a bug in a rule must not stop the run; say which file
        return error_result(target.display, f"internal error while analysing: {type(exc).__name__}: {exc}"), []
    deps = sorted(p for p in (project.touched if project else ()) if os.path.abspath(p) != os.path.abspath(target.path))
    return result, deps


#: net growth of tracked objects between young collections, and young (middle) collections between
#: older ones.  A worker holds the trees of the modules it has read; with CPython's defaults
#: (700, 10, 10) the collector walked them again and again (40 % of a cold run's CPU on the bench
#: corpus), and with (50_000, 20, 20) still 18 %.  Per-file cycles are broken when a file is done
#: (FileContext.dispose) and the caches dropped by ProjectModules.trim are collected there, so the
#: young collection is only a bound on what a file that leaves cycles could pile up between trims.
GC_THRESHOLDS = (1_000_000, 20, 20)


def tune_gc(worker: bool = False) -> None:
    """Collector settings for analysing many files.  In a worker process, whatever is alive after
    start-up and after each trim (imported modules, the resource table, bindings kept across trims)
    is moved out of the collector's reach (:func:`gc.freeze`): the trims' full collections then walk
    only what the analyses made since (bench corpus: 19 full collections, 1.6 s down to 0.4 s)."""
    gc.set_threshold(*GC_THRESHOLDS)
    if worker:
        from txlint import names

        gc.freeze()
        names.FREEZE_AFTER_TRIM = True


def _worker_main(conn, options: Options) -> None:  # pragma: no cover - runs in a child process
    sys.setrecursionlimit(20000)
    tune_gc(worker=True)
    while True:
        try:
            item = conn.recv()
        except (EOFError, OSError):
            return
        if item is None:
            return
        index, target, data = item
        result, deps = _analyze_target(target, options, data)
        conn.send((index, result, deps))


class _Worker:
    def __init__(self, ctx, options: Options):
        self.conn, child = ctx.Pipe()
        self.proc = ctx.Process(target=_worker_main, args=(child, options), daemon=True)
        self.proc.start()
        child.close()
        self.busy: int | None = None
        self.started = 0.0

    def send(self, index: int, target: Target, data: bytes | None) -> None:
        self.busy = index
        self.started = time.monotonic()
        self.conn.send((index, target, data))

    def stop(self, kill: bool = False) -> None:
        try:
            if kill:
                self.proc.kill()
            else:
                self.conn.send(None)
        except (OSError, ValueError):
            pass
        self.proc.join(timeout=5)
        if self.proc.is_alive():
            self.proc.kill()
            self.proc.join(timeout=5)
        self.conn.close()


def _mp_context():
    methods = multiprocessing.get_all_start_methods()
    return multiprocessing.get_context("fork" if "fork" in methods else "spawn")


def run(targets: list[Target], options: Options, *, jobs: int, cache: Cache | None,
        stdin_text: str | None = None, progress=None) -> tuple[list[FileResult], RunStats]:
    """Results in the order of ``targets`` (already sorted by the caller)."""
    stats = RunStats(files=len(targets))
    start = time.perf_counter()
    results: list[FileResult | None] = [None] * len(targets)
    if jobs <= 0:
        jobs = 1
    # workers are started before the files are read: a forked worker would otherwise carry the
    # bytes of every file in its memory (the bench corpus: about 40 MB each)
    ctx = _mp_context()
    pool = [_Worker(ctx, options) for _ in range(min(jobs, len(targets)))] \
        if len(targets) > 1 and stdin_text is None and ctx.get_start_method() == "fork" else []
    todo: list[tuple[int, Target, bytes | None, str | None]] = []
    # without a cache the main process has no use for the bytes: each worker reads its own files
    # (in parallel, while the others already work) instead of receiving them through a pipe
    read_here = cache is not None or not pool
    for i, target in enumerate(targets):
        if target.path == "-" or stdin_text is not None and target.path == "-":
            result, _ = _analyze_target(target, options, text=stdin_text)
            results[i] = result
            continue
        data = None
        key = None
        if not target.error and read_here:
            try:
                data = read_bytes(target.path)
            except SourceError as exc:
                results[i] = error_result(target.display, exc.message, exc.line, exc.column)
                continue
            if cache is not None and target.kind == PYTHON:
                key = cache.key(target.path, data)
                hit = cache.get(key, target.display)
                if hit is not None:
                    results[i] = hit
                    stats.cached += 1
                    continue
        todo.append((i, target, data, key))

    def store(i: int, key: str | None, result: FileResult, deps: list[str]) -> None:
        results[i] = result
        stats.analysed += 1
        if cache is not None and key is not None and not result.fixed_source:
            if not any(d.code == "TXL000" and d.message.startswith(("internal error", "analysis"))
                       for d in result.diagnostics):
                cache.put(key, result, deps)
        if progress:
            progress(result)

    small = len(todo) == 1 and _fits_in_process(todo[0])
    if small or not todo:
        for w in pool:
            w.stop()
        tune_gc()
        for i, target, data, key in todo:
            result, deps = _analyze_target(target, options, data)
            store(i, key, result, deps)
    else:
        extra = pool[min(jobs, len(todo)):]
        for w in extra:
            w.stop()
        _run_workers(ctx, todo, options, min(jobs, len(todo)), store, stats, pool[:min(jobs, len(todo))])
    stats.seconds = time.perf_counter() - start
    for r in results:
        if r is not None and r.notes:
            stats.notes.extend(f"{r.path}: {n}" for n in r.notes)
    return [r for r in results if r is not None], stats


def _fits_in_process(item) -> bool:
    """Whether the one file left is small enough to analyse in this process (a large one goes to a
    worker, whose time limit stops a hang), by its bytes, or its size when a worker was to read it."""
    _i, target, data, _key = item
    if data is not None:
        return len(data) <= IN_PROCESS_BYTES
    if target.error:
        return True
    try:
        return os.path.getsize(target.path) <= IN_PROCESS_BYTES
    except OSError:
        return True  # reported as unreadable by the analysis itself


def _run_workers(ctx, todo, options: Options, jobs: int, store, stats: RunStats, started=()) -> None:
    segments = _segments(todo, jobs)
    meta = {i: (target, key) for i, target, _, key in todo}
    workers = list(started) + [_Worker(ctx, options) for _ in range(jobs - len(started))]
    try:
        def feed(idx: int) -> None:
            item = _next_item(segments, idx)
            if item is not None:
                i, target, data, _key = item
                workers[idx].send(i, target, data)
            else:
                workers[idx].busy = None

        for idx in range(len(workers)):
            feed(idx)
        while any(w.busy is not None for w in workers):
            busy = [w for w in workers if w.busy is not None]
            ready = wait([w.conn for w in busy] + [w.proc.sentinel for w in busy], timeout=1.0)
            now = time.monotonic()
            for idx, w in enumerate(workers):
                if w.busy is None:
                    continue
                if w.conn in ready:
                    try:
                        index, result, deps = w.conn.recv()
                    except (EOFError, OSError):
                        index = None
                    if index is not None:
                        store(index, meta[index][1], result, deps)
                        feed(idx)
                        continue
                crashed = w.proc.sentinel in ready and not w.proc.is_alive()
                timed_out = now - w.started > FILE_TIME_LIMIT
                if crashed or timed_out or (w.conn in ready):
                    target, _ = meta[w.busy]
                    if timed_out and not crashed:
                        message = f"analysis gave up after {FILE_TIME_LIMIT:.0f} s"
                    else:
                        code = w.proc.exitcode
                        how = f"signal {-code}" if code is not None and code < 0 else f"exit status {code}"
                        message = f"analysis crashed ({how}); the file was not checked"
                    stats.crashed += 1
                    store(w.busy, None, error_result(target.display, message), [])
                    w.stop(kill=True)
                    workers[idx] = _Worker(ctx, options)
                    feed(idx)
    finally:
        for w in workers:
            w.stop()


def _segments(todo: list, jobs: int) -> list[collections.deque]:
    """``todo`` (sorted by path) cut into one run of neighbouring files per worker.  Files of one
    package import each other: a worker that takes them together reads each dependency once
    (and reuses the tree it read for its own analysis of it), where dealing files out in turn
    makes every worker read most of the package (bench corpus, two workers: a quarter fewer
    modules read)."""
    size, extra = divmod(len(todo), jobs)
    out, start = [], 0
    for k in range(jobs):
        end = start + size + (1 if k < extra else 0)
        out.append(collections.deque(todo[start:end]))
        start = end
    return out


def _next_item(segments: list[collections.deque], idx: int):
    """The next file of worker ``idx``'s own run, in order; once that is done, the last file of the
    longest run left (its owner keeps going forward, the helper backward: they meet)."""
    own = segments[idx]
    if own:
        return own.popleft()
    longest = max(segments, key=len)
    return longest.pop() if longest else None
