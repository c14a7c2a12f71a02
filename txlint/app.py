"""One check run: settings -> discovery -> runner (cache, workers) -> baseline -> reporters -> exit code."""

from __future__ import annotations

import os
import sys
import time
import traceback
from dataclasses import dataclass, field

import click

EXIT_CLEAN, EXIT_FINDINGS, EXIT_ERROR = 0, 1, 2
MAX_FIX_PASSES = 5


@dataclass
class CheckRequest:
    paths: list[str] = field(default_factory=list)
    fmt: str = "text"
    select: list[str] = field(default_factory=list)
    ignore: list[str] = field(default_factory=list)
    exclude: list[str] = field(default_factory=list)
    config: str | None = None
    jobs: int | None = None
    use_cache: bool = True
    cache_dir: str | None = None
    baseline: str | None = None
    write_baseline: str | None = None
    stdin_filename: str | None = None
    statistics: bool = False
    show_source: bool = False
    fix: bool = False
    diff: bool = False
    unsafe_fixes: bool = False
    exit_zero: bool = False
    quiet: bool = False
    verbose: bool = False


class UsageProblem(Exception):
    pass


def _err(message: str) -> None:
    click.echo(message, err=True)


def run_check(req: CheckRequest) -> int:
    try:
        return _run(req)
    except UsageProblem as exc:
        _err(f"txlint: {exc}")
        return EXIT_ERROR
    except Exception as exc:  # never a traceback for users; --verbose shows it
        from txlint.settings import ConfigError

        if isinstance(exc, ConfigError):
            _err(f"txlint: configuration error: {exc}")
            return EXIT_ERROR
        if req.verbose:
            _err(traceback.format_exc().replace("Traceback (most recent call last)", "Internal error stack"))
        _err(f"txlint: internal error: {type(exc).__name__}: {exc}")
        return EXIT_ERROR


def _run(req: CheckRequest) -> int:
    from txlint.context import Options
    from txlint.discovery import Excluder, Target, discover, kind_of
    from txlint.registry import all_codes, enabled as enabled_codes, load_rules
    from txlint.settings import build_settings, find_project_root, split_list

    started = time.perf_counter()
    if req.fix and req.diff:
        raise UsageProblem("--fix and --diff cannot be used together")
    codes = all_codes()
    settings = build_settings(config=req.config, select=split_list(req.select), ignore=split_list(req.ignore),
                              exclude=split_list(req.exclude), known_codes=list(codes))
    enabled = enabled_codes(codes, settings.select, settings.ignore)
    rules = load_rules()
    excluder = Excluder.build(settings.excludes)

    stdin_text = None
    paths = list(req.paths)
    if req.stdin_filename is not None and (not paths or paths == ["-"]):
        name = req.stdin_filename
        data = sys.stdin.buffer.read()
        if excluder.excluded(name):
            targets = []
        else:
            kind = kind_of(name, explicit=True) or "python"
            from txlint.source import SourceError, decode

            try:
                stdin_text = decode(data) if kind == "python" else data.decode("utf-8-sig")
                targets = [Target("-", name, kind)]
            except (SourceError, UnicodeDecodeError) as exc:
                targets = [Target("-", name, kind, getattr(exc, "message", str(exc)))]
        root = find_project_root(os.path.dirname(os.path.abspath(name)) or ".") if not settings.config_path \
            else settings.project_root
    else:
        if "-" in paths:
            raise UsageProblem("reading from stdin needs --stdin-filename NAME")
        if not paths:
            paths = ["."]
        targets = discover(paths, excluder)
        root = settings.project_root
        if not settings.config_path and paths:
            root = find_project_root(paths[0] if os.path.isdir(paths[0]) else os.path.dirname(paths[0]) or ".")

    options = Options(enabled=frozenset(enabled), want_fixes=req.fix or req.diff, closers=tuple(settings.closers),
                      task_decorators=tuple(settings.task_decorators), project_root=root,
                      resources=dict(settings.resources), unsafe_fixes=req.unsafe_fixes,
                      per_file_ignores=settings.per_file_ignores)
    cache = None
    if req.use_cache and not (req.fix or req.diff) and stdin_text is None:
        from txlint.cache import open_cache

        cache, distrust = open_cache(root, settings.fingerprint(enabled) + "-" + ",".join(sorted(enabled)),
                                     req.cache_dir)
        if distrust and not req.quiet:
            _err(f"txlint: warning: {distrust}")
    jobs = req.jobs or os.cpu_count() or 1

    progress = None
    if req.verbose:
        def progress(result):
            _err(f"checked {result.path}: {len(result.diagnostics)} finding(s)")

    from txlint.runner import run

    if req.verbose:
        _err(f"txlint {_version()}: {len(targets)} file(s), {len(enabled)} rule(s), jobs={jobs}, "
             f"config={settings.config_path or 'none'}, cache={'off' if cache is None else cache.dir}")
    bar = None
    if progress is None:  # on a terminal, a bar for runs longer than about a second (never --quiet)
        from txlint.progress import progress_bar

        bar = progress_bar(len(targets), quiet=req.quiet, verbose=req.verbose)
        progress = bar.advance if bar is not None else None
    try:
        results, stats = run(targets, options, jobs=jobs, cache=cache, stdin_text=stdin_text, progress=progress)
    finally:
        if bar is not None:
            bar.close()

    if req.diff:
        changed = _apply_fixes(results, req, stdin_text, root=root)
        _finish_note(req, f"{changed} file(s) would be changed", started, stats)
        return EXIT_FINDINGS if changed else EXIT_CLEAN
    if req.fix:
        # fixes that touch the same code apply over several passes, as in ruff; each pass re-reads
        # the files it changed, so every pass starts from code that parses
        pending, passes = targets, 0
        while True:
            changed_paths = _apply_fixes(results, req, stdin_text, paths=True, root=root)
            passes += 1
            if not changed_paths or passes >= MAX_FIX_PASSES or stdin_text is not None:
                break
            pending = [t for t in pending if t.display in changed_paths]
            results, _ = run(pending, options, jobs=jobs, cache=None)
        if passes > 1 or changed_paths:
            # report what is left after fixing
            options_nofix = Options(**{**options.__dict__, "want_fixes": False})
            results, stats = run(targets, options_nofix, jobs=jobs, cache=None, stdin_text=stdin_text)

    diagnostics = sorted((d for r in results for d in r.diagnostics), key=lambda d: d.sort_key)
    if req.write_baseline:
        from txlint.baseline import BaselineError, write_baseline

        try:
            write_baseline(req.write_baseline, diagnostics)
        except BaselineError as exc:
            raise UsageProblem(str(exc)) from None
        _finish_note(req, f"wrote {len(diagnostics)} finding(s) to {req.write_baseline}", started, stats)
        return EXIT_CLEAN
    if req.baseline:
        from txlint.baseline import BaselineError, load_baseline

        try:
            diagnostics = load_baseline(req.baseline).filter(diagnostics)
        except BaselineError as exc:
            raise UsageProblem(str(exc)) from None

    from txlint.reporters import render

    enabled_rules = {code: rules[code] for code in enabled if code in rules}
    color = False
    if req.show_source:
        from txlint.reporters.text import use_color

        color = use_color(sys.stdout)
    out = render(req.fmt, diagnostics, files_checked=len(targets), errors=[], rules=enabled_rules,
                 statistics=req.statistics, show_source=req.show_source, color=color,
                 sources={req.stdin_filename: stdin_text} if stdin_text is not None else None)
    if out:
        sys.stdout.write(out)
        sys.stdout.flush()
    if req.verbose:
        for note in stats.notes:
            _err(f"note: {note}")
    if req.fmt == "text" and not req.quiet:
        n = len(diagnostics)
        summary = f"Found {n} finding{'s' if n != 1 else ''} in {len({d.path for d in diagnostics})} file(s)" \
            if n else "No findings"
        _finish_note(req, f"{summary} ({len(targets)} file(s) checked)", started, stats)
    elif req.verbose:
        _finish_note(req, f"{len(diagnostics)} finding(s)", started, stats)
    if diagnostics and not req.exit_zero:
        return EXIT_FINDINGS
    return EXIT_CLEAN


def _version() -> str:
    from txlint import __version__

    return __version__


def _finish_note(req: CheckRequest, message: str, started: float, stats) -> None:
    if req.quiet:
        return
    if req.verbose:
        message += (f"; {stats.files} file(s), {stats.cached} from cache, {stats.analysed} analysed, "
                    f"{time.perf_counter() - started:.2f} s")
    _err(message)


def _apply_fixes(results, req: CheckRequest, stdin_text: str | None, paths: bool = False, root: str = "."):
    """Write (--fix) or print (--diff) each file's fixed source; the number of changed files,
    or with ``paths`` their display paths.  A file reached through a symlink is fixed in its
    target (once) when that lies inside the project ``root``, else left alone with a note."""
    from txlint.fixes import fix_destination, unified_diff, write_atomic

    changed = 0
    changed_paths: set[str] = set()
    destinations: set[str] = set()
    for result in results:
        new = result.fixed_source
        if not new:
            continue
        if result.path == req.stdin_filename and stdin_text is not None:
            old = stdin_text
        else:
            dest, note = fix_destination(_path_of(result.path), root)
            if dest is None or dest in destinations:
                if note and not req.quiet:
                    _err(f"txlint: {note}")
                continue
            destinations.add(dest)
            try:
                from txlint.source import decode, read_bytes

                raw = read_bytes(dest)
                old = decode(raw)
            except Exception:
                continue
        if new == old:
            continue
        changed += 1
        changed_paths.add(result.path)
        if req.diff or (stdin_text is not None and result.path == req.stdin_filename):
            sys.stdout.write(unified_diff(result.path, old, new))
        else:
            bom = raw.startswith(b"\xef\xbb\xbf")
            write_atomic(dest, ("\ufeff" if bom else "") + new, _encoding_of(raw))
            if not req.quiet:
                _err(f"fixed {result.path}" + (f" (its target {dest})" if os.path.islink(_path_of(result.path)) else ""))
    sys.stdout.flush()
    return changed_paths if paths else changed


def _encoding_of(raw: bytes) -> str:
    """The encoding a source file declares (PEP 263), so that a fix writes it back the same way."""
    import io
    import tokenize

    try:
        encoding, _ = tokenize.detect_encoding(io.BytesIO(raw).readline)
    except SyntaxError:
        return "utf-8"
    return "utf-8" if encoding == "utf-8-sig" else encoding


def _path_of(display: str) -> str:
    return display
