"""TXL501 worker-stop-timeout-too-short: deployment configs that kill Celery workers mid-task.

Each format is parsed with a real parser (configparser for supervisord and systemd, PyYAML's
composer for Compose and Kubernetes, which keeps line numbers); the commands are split with
:mod:`shlex`.  What a warm shutdown needs comes from :mod:`txlint.celery_config`.
"""

from __future__ import annotations

import configparser
import re
import shlex
from dataclasses import dataclass
from typing import Iterator

from txlint.messages import clip, fit
from txlint.registry import Rule, ex, register
from txlint.source import SourceError

DEFAULT_NEED = 600.0  # Celery's own supervisord example: stopwaitsecs = 600
SUPERVISORD_DEFAULT = 10.0
SYSTEMD_DEFAULT = 90.0
COMPOSE_DEFAULT = 10.0
KUBERNETES_DEFAULT = 30.0
INFINITY = float("inf")

# ---------------------------------------------------------------------------------------------
# commands
# ---------------------------------------------------------------------------------------------

#: celery's global options that take a value (celery 4 and 5)
_VALUE_OPTIONS = {"-A", "--app", "-b", "--broker", "--result-backend", "--loader", "--config", "--workdir"}
_SUBCOMMANDS = {"worker", "beat", "flower", "inspect", "control", "multi", "events", "status", "call", "purge",
                "result", "shell", "upgrade", "graph", "list", "logtool", "amqp", "migrate", "report"}
_SEPARATORS = {"&&", "||", ";", "|", "&"}
_NON_PREFORK = {"solo", "threads", "gevent", "eventlet"}
_CELERY_VAR = re.compile(r"^\$\{?CELERY(?:_BIN)?\}?$")


@dataclass
class Worker:
    pool: str | None          # "prefork", another pool name, or None when not statically known
    time_limit: float | None  # the worker's own --time-limit, when given on the command line


def _split(text: str) -> list[str]:
    text = text.replace("\\\n", " ")
    try:
        lexer = shlex.shlex(text, posix=True, punctuation_chars=";&|")
        lexer.whitespace_split = True
        lexer.commenters = ""
        return list(lexer)
    except ValueError:
        return text.split()


def _flatten(parts: list[str]) -> list[str]:
    """Tokens of a command given as argv items; an item holding a whole command (``sh -c "..."``,
    a Kubernetes ``args`` string) is split in turn."""
    out: list[str] = []
    for part in parts:
        tokens = _split(part)
        if len(tokens) > 1:
            out.extend(_flatten(tokens))
        else:
            out.extend(tokens)
    return out


def _is_celery(token: str) -> str:
    """``celery``, ``celeryd`` or "" for a token that is (not) the Celery executable."""
    base = token.rsplit("/", 1)[-1]
    if base in ("celery", "celeryd"):
        return base
    if _CELERY_VAR.match(token):
        return "celery"
    return ""


def _seconds(text: str) -> float | None:
    try:
        value = float(text)
    except ValueError:
        return None
    return value if value > 0 else None


def celery_worker(command: str | list[str]) -> Worker | None:
    """The Celery worker a command starts (``celery -A proj worker``, ``python -m celery worker``,
    ``celeryd``, ``celery multi start``, inside ``sh -c "..."``), or None."""
    tokens = _flatten([command] if isinstance(command, str) else [str(c) for c in command])
    found: Worker | None = None
    for i, token in enumerate(tokens):
        exe = _is_celery(token)
        if not exe:
            continue
        end = next((j for j in range(i + 1, len(tokens)) if tokens[j] in _SEPARATORS), len(tokens))
        segment = tokens[i + 1:end]
        if exe == "celery":
            sub, k = "", 0
            while k < len(segment):
                tok = segment[k]
                if tok.startswith("-"):
                    if tok in _VALUE_OPTIONS:
                        k += 1
                elif tok in _SUBCOMMANDS:
                    sub = tok
                    break
                k += 1
            if sub == "multi":
                rest = [t for t in segment[k + 1:] if not t.startswith("-")]
                if not rest or rest[0] not in ("start", "restart"):
                    continue
            elif sub != "worker":
                continue
        worker = Worker(pool="prefork", time_limit=None)
        k = 0
        while k < len(segment):
            tok = segment[k]
            value = None
            if tok in ("-P", "--pool", "--time-limit") and k + 1 < len(segment):
                value = segment[k + 1]
                k += 1
            elif tok.startswith("--pool=") or tok.startswith("--time-limit="):
                value = tok.split("=", 1)[1]
            elif tok.startswith("-P") and len(tok) > 2 and not tok.startswith("-P="):
                value = tok[2:]
            if value is not None:
                if "time-limit" in tok:
                    worker.time_limit = _seconds(value)
                elif "$" in value or "{" in value:
                    worker.pool = None
                else:
                    worker.pool = "prefork" if value in ("prefork", "processes") else value
            k += 1
        if found is None or (worker.time_limit or 0) > (found.time_limit or 0):
            found = worker
    return found


# ---------------------------------------------------------------------------------------------
# durations
# ---------------------------------------------------------------------------------------------

_SYSTEMD_UNITS = {
    "us": 1e-6, "usec": 1e-6, "µs": 1e-6, "ms": 1e-3, "msec": 1e-3,
    "s": 1, "sec": 1, "second": 1, "seconds": 1,
    "m": 60, "min": 60, "minute": 60, "minutes": 60,
    "h": 3600, "hr": 3600, "hour": 3600, "hours": 3600,
    "d": 86400, "day": 86400, "days": 86400,
    "w": 604800, "week": 604800, "weeks": 604800,
    "M": 2629800, "month": 2629800, "months": 2629800,
    "y": 31557600, "year": 31557600, "years": 31557600,
}
_SPAN_PART = re.compile(r"\s*(\d+(?:\.\d*)?|\.\d+)\s*([a-zA-Zµ]*)")
_GO_PART = re.compile(r"(\d+(?:\.\d*)?|\.\d+)(us|µs|ms|s|m|h)")


def systemd_timespan(text: str) -> float | None:
    """Seconds of a systemd time span (``600``, ``10min``, ``1min 30s``, ``infinity``); None if
    not understood.  ``0`` disables the timeout, like ``infinity``."""
    text = text.strip()
    if text == "infinity":
        return INFINITY
    if not text:
        return None
    total, pos = 0.0, 0
    while pos < len(text):
        m = _SPAN_PART.match(text, pos)
        if not m or m.end() == pos:
            return None
        unit = m.group(2)
        factor = _SYSTEMD_UNITS.get(unit if unit == "M" else unit.lower(), None) if unit else 1
        if factor is None:
            return None
        total += float(m.group(1)) * factor
        pos = m.end()
        while pos < len(text) and text[pos].isspace():
            pos += 1
    return INFINITY if total == 0 else total


def compose_duration(value) -> float | None:
    """Seconds of a Compose duration (``1m30s``, ``10s``, ``1h``; a bare number is seconds)."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    text = str(value).strip()
    if re.fullmatch(r"\d+(?:\.\d+)?", text):
        return float(text)
    if not text or not re.fullmatch(r"(?:(\d+(?:\.\d*)?|\.\d+)(us|µs|ms|s|m|h))+", text):
        return None
    factors = {"us": 1e-6, "µs": 1e-6, "ms": 1e-3, "s": 1, "m": 60, "h": 3600}
    return sum(float(n) * factors[u] for n, u in _GO_PART.findall(text))


def _fmt(seconds: float) -> str:
    if seconds == INFINITY:
        return "unlimited"
    return f"{int(seconds)} s" if float(seconds).is_integer() else f"{seconds:g} s"


def _whole(seconds: float) -> int:
    return int(seconds) if float(seconds).is_integer() else int(seconds) + 1


# ---------------------------------------------------------------------------------------------
# INI files (supervisord, systemd): configparser validates and reads, a line scan places keys
# ---------------------------------------------------------------------------------------------

@dataclass
class _Entry:
    key: str
    value: str
    line: int


@dataclass
class _Section:
    name: str
    line: int
    entries: list[_Entry]

    def last(self, key: str) -> _Entry | None:
        for entry in reversed(self.entries):
            if entry.key == key:
                return entry
        return None


_SECTION_RE = re.compile(r"^\[(?P<name>[^\]]+)\]")


def _parse_ini(text: str, *, systemd: bool) -> list[_Section]:
    parser = configparser.RawConfigParser(
        strict=False, interpolation=None, allow_no_value=False, delimiters=("=",) if systemd else ("=", ":"),
        comment_prefixes=("#", ";"), inline_comment_prefixes=None if systemd else ("#", ";"),
        empty_lines_in_values=not systemd, default_section="\x00txlint-no-default\x00")
    checked = text
    if systemd:  # a backslash continues a systemd line: indent the next one, as configparser expects
        checked = re.sub(r"\\\n(?=\S)", "\\\n ", text)
    try:
        parser.read_string(checked)
    except configparser.MissingSectionHeaderError as exc:
        raise SourceError("cannot parse: a setting comes before any [section] header", exc.lineno) from None
    except configparser.ParsingError as exc:
        line = exc.errors[0][0] if getattr(exc, "errors", None) else 1
        raise SourceError(f"cannot parse: {str(exc).splitlines()[0]}", line) from None
    except configparser.Error as exc:
        raise SourceError(f"cannot parse: {exc}", getattr(exc, "lineno", 1) or 1) from None
    # configparser has no positions (and keeps one value per key): scan the lines for them
    sections: list[_Section] = []
    current: _Section | None = None
    # supervisord's parser (configparser's): a line continues the option before it only when it is
    # indented deeper than that option's line; options may be indented under their section
    option_indent: int | None = None
    lines = text.splitlines()
    i = 0
    while i < len(lines):
        raw = lines[i]
        lineno = i + 1
        i += 1
        stripped = raw.strip()
        if not stripped or stripped[0] in "#;":
            continue
        indent = len(raw) - len(raw.lstrip())
        if not systemd and option_indent is not None and indent > option_indent and current is not None \
                and current.entries:
            current.entries[-1].value += "\n" + stripped  # configparser continuation line
            continue
        m = _SECTION_RE.match(stripped)
        if m:
            current = _Section(m.group("name").strip(), lineno, [])
            sections.append(current)
            option_indent = None
            continue
        if current is None:
            continue
        if systemd:
            while stripped.endswith("\\") and i < len(lines):
                stripped = stripped[:-1] + " " + lines[i].strip()
                i += 1
        cut = [p for p in (stripped.find(d) for d in (("=",) if systemd else ("=", ":"))) if p >= 0]
        if not cut:
            continue
        key, value = stripped[:min(cut)].strip().lower(), stripped[min(cut) + 1:].strip()
        if not systemd:
            value = re.split(r"\s[#;]", value, maxsplit=1)[0].strip()
            option_indent = indent
        current.entries.append(_Entry(key, value, lineno))
    return sections


_TRUE = {"true", "yes", "on", "1"}


def _inline_value(value: str) -> str:
    """A value with a trailing ``# comment`` removed (systemd has no inline comments; tolerate one)."""
    return re.split(r"\s+[#;]", value, maxsplit=1)[0].strip()


# ---------------------------------------------------------------------------------------------
# YAML (Compose, Kubernetes): node trees keep line numbers
# ---------------------------------------------------------------------------------------------

def _yaml_documents(text: str):
    import yaml

    try:
        return [doc for doc in yaml.compose_all(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
                if doc is not None]
    except yaml.YAMLError as exc:
        if "{{" in text or "{%" in text:
            return []  # a Helm / Jinja template: not YAML until rendered; skipped
        mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
        line = mark.line + 1 if mark is not None else 1
        col = mark.column + 1 if mark is not None else 1
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise SourceError(f"cannot parse YAML: {problem}", line, col) from None


def _items(node, _seen: frozenset = frozenset()) -> dict:
    """key -> (key node, value node) of a mapping node, with ``<<`` merge keys applied."""
    import yaml

    out: dict = {}
    if not isinstance(node, yaml.MappingNode) or id(node) in _seen or len(_seen) > 50:
        return out
    seen = _seen | {id(node)}
    merged: dict = {}
    for key, value in node.value:
        if isinstance(key, yaml.ScalarNode) and key.tag == "tag:yaml.org,2002:merge":
            sources = value.value if isinstance(value, yaml.SequenceNode) else [value]
            for src in sources:
                for k, v in _items(src, seen).items():
                    merged.setdefault(k, v)
            continue
        if isinstance(key, yaml.ScalarNode):
            out[key.value] = (key, value)
    for k, v in merged.items():
        out.setdefault(k, v)
    return out


def _get(node, *path):
    for name in path:
        pair = _items(node).get(name)
        if pair is None:
            return None
        node = pair[1]
    return node


def _scalar(node):
    import yaml

    if isinstance(node, yaml.ScalarNode):
        return node.value
    return None


def _argv(node) -> list[str]:
    """A command as a list of strings (a sequence node's scalars, or one string)."""
    import yaml

    if isinstance(node, yaml.ScalarNode):
        return [node.value] if node.value else []
    if isinstance(node, yaml.SequenceNode):
        return [item.value for item in node.value if isinstance(item, yaml.ScalarNode)]
    return []


# ---------------------------------------------------------------------------------------------
# the rule
# ---------------------------------------------------------------------------------------------

@dataclass
class _Need:
    seconds: float
    why: str


def _need(ctx, worker: Worker) -> _Need:
    from txlint.celery_config import project_task_time_limit, scanned_paths

    root = ctx.options.project_root or "."
    found = project_task_time_limit(root)
    touched = getattr(ctx.project, "touched", None)
    if touched is not None:  # the result cache re-checks these files before trusting this finding
        touched.update(scanned_paths(root))
    best: _Need | None = None
    if found is not None:
        best = _Need(found[0], found[1])
    if worker.time_limit is not None and (best is None or worker.time_limit > best.seconds):
        best = _Need(worker.time_limit, f"--time-limit={_whole(worker.time_limit)} on the worker command")
    if best is None:
        best = _Need(DEFAULT_NEED, "no task time limit is set")
    return best


@register
class WorkerStopTimeoutTooShort(Rule):
    code = "TXL501"
    name = "worker-stop-timeout-too-short"
    summary = ("supervisord/systemd/Compose/Kubernetes gives a Celery worker less time to stop than a warm "
               "shutdown needs, so running tasks are killed mid-way")
    needs = frozenset()
    file_kinds = ("supervisord", "systemd", "compose", "kubernetes")
    doc = """
## What it does

Checks the deployment files that start Celery workers: supervisord `[program:...]` sections
(`*.conf`, `*.ini`), systemd units (`*.service`), Docker Compose files (`compose*.y*ml`,
`docker-compose*.y*ml`) and Kubernetes manifests (Pods, Deployments, StatefulSets, DaemonSets,
Jobs, CronJobs, in single- or multi-document YAML). For every program, service or pod whose
command starts a Celery worker (`celery -A proj worker`, `celery --app=proj worker`,
`python -m celery worker`, `/venv/bin/celery ... worker`, `celeryd`, `celery multi start`, also
inside `sh -c "..."` strings and command lists; not `celery beat`, `flower` or `inspect`), it
compares the time the process manager waits before it sends SIGKILL with the time a warm shutdown
can need:

| manager | setting | default |
| --- | --- | --- |
| supervisord | `stopwaitsecs` | 10 s |
| systemd | `TimeoutStopSec` (or `TimeoutSec`) | 90 s |
| Docker Compose | `stop_grace_period` | 10 s |
| Kubernetes | `terminationGracePeriodSeconds` | 30 s |

A warm shutdown needs as long as the longest task may run: the largest hard time limit the project
sets (`time_limit=` on `@app.task`/`@shared_task`, `time_limit` on a `Task` class,
`task_time_limit` / `CELERY_TASK_TIME_LIMIT` / `CELERYD_TASK_TIME_LIMIT` in literal configuration,
the worker's own `--time-limit`; a value read from the environment or a settings helper with a
literal default, such as `int(os.getenv("WORKER_TIMEOUT", 1800))` or `env.int("X", default=1800)`,
counts as that default; tests, `conftest.py` and docs are not counted), or, when none is set, 600 s,
the value of Celery's own supervisord example. Files are read as their programs read them:
supervisord options may be indented under their section, and a line continues the option before
it only when it is indented deeper. The finding is on the setting's line,
or on the `[program:...]` / `[Service]` header, the Compose service or the pod `spec:` when the
setting is missing and its default is too short.

For supervisord it also reports, on the section header, a worker with a prefork pool (the default
unless `--pool`/`-P` is `solo`, `threads`, `gevent` or `eventlet`) whose section sets neither
`stopasgroup=true` nor `killasgroup=true`: supervisord then signals only the main process, and when
it kills it, the pool's child processes are orphaned.

Values txlint cannot know (`%(ENV_X)s`, `${VAR}`, Helm values) are not judged. Helm or Jinja
templates that are not YAML before rendering (they contain `{{` and do not parse) are skipped
silently; any other file that does not parse is reported as TXL000.

## Why is this bad

On stop (a deploy, a scale-down, a node drain) the worker gets SIGTERM and starts a warm shutdown:
it takes no new tasks and waits for the running ones to finish. If the process manager's stop
timeout runs out first, it sends SIGKILL: the running tasks die mid-way, leaving half-done work
and open database transactions behind. Without `acks_late` the messages were already acknowledged,
so those tasks are simply lost; with `acks_late` they are redelivered and run again from the start,
so they must be idempotent, and a task longer than the stop timeout is killed on every deploy.

## Example

```ini
[program:celery]
command=celery -A proj worker --loglevel=INFO
stopwaitsecs=10
```

```python
@app.task(time_limit=1800)
def rebuild_index(): ...
```

## Use instead

```ini
[program:celery]
command=celery -A proj worker --loglevel=INFO
; longer than the longest task (time_limit=1800)
stopwaitsecs=1900
stopasgroup=true
```

The same for the others: `TimeoutStopSec=1900` (systemd), `stop_grace_period: 1900s` (Compose),
`terminationGracePeriodSeconds: 1900` (Kubernetes). Also set a `task_time_limit` so that a warm
shutdown is bounded at all.
"""

    def check(self, ctx) -> None:
        kind = ctx.kind
        if kind == "supervisord":
            self._supervisord(ctx)
        elif kind == "systemd":
            self._systemd(ctx)
        elif kind == "compose":
            self._compose(ctx)
        elif kind == "kubernetes":
            self._kubernetes(ctx)

    # ---- shared message --------------------------------------------------------------
    def _judge(self, ctx, worker: Worker, where: tuple[int, int], manager: str, setting: str,
               default: float, suggest: str, configured: str | None = None, stop: float | None = None) -> None:
        """Report when the stop time -- ``stop`` as configured, else the manager's ``default`` -- is
        shorter than a warm shutdown of ``worker`` needs."""
        if configured is None:
            stop = default
        need = _need(ctx, worker)
        if stop >= need.seconds:
            return
        sep = ": " if manager in ("Docker Compose", "Kubernetes") else "="
        if configured is not None:
            head = f"`{setting}{sep}{clip(configured, 20)}` gives the Celery worker {_fmt(stop)} to stop"
        else:
            head = f"{manager} gives the Celery worker {_fmt(stop)} to stop (`{setting}` not set)"
        target = _whole(need.seconds) + (60 if need.seconds >= 600 else 10)
        ctx.report(self.code, where,
                   fit(f"{head} but a task can run {_fmt(need.seconds)}", f" ({clip(need.why, 60)})"),
                   end=_line_end(ctx, where),
                   trace=[(where, f"SIGKILL after {_fmt(stop)}; {suggest.format(target)} lets running tasks "
                                  f"finish ({need.why})")])

    # ---- supervisord -----------------------------------------------------------------
    def _supervisord(self, ctx) -> None:
        for section in _parse_ini(ctx.text, systemd=False):
            if not section.name.startswith("program:"):
                continue
            command = section.last("command")
            if command is None:
                continue
            worker = celery_worker(command.value)
            if worker is None:
                continue
            header = (section.line, 1)
            wait = section.last("stopwaitsecs")
            if wait is None:
                self._judge(ctx, worker, header, "supervisord", "stopwaitsecs", SUPERVISORD_DEFAULT,
                            "stopwaitsecs={}")
            else:
                seconds = _seconds_int(wait.value)
                if seconds is not None:
                    self._judge(ctx, worker, (wait.line, 1), "supervisord", "stopwaitsecs", SUPERVISORD_DEFAULT,
                                "stopwaitsecs={}", wait.value, seconds)
            if worker.pool == "prefork":
                self._process_group(ctx, section, header)

    def _process_group(self, ctx, section: _Section, header: tuple[int, int]) -> None:
        stop_group, kill_group = section.last("stopasgroup"), section.last("killasgroup")
        values = {}
        for entry in (stop_group, kill_group):
            if entry is not None:
                value = entry.value.strip().lower()
                if "%(" in value:
                    return  # not statically known
                values[entry.key] = value in _TRUE
        if values.get("stopasgroup") or values.get("killasgroup"):
            return
        if not values:
            which = "neither stopasgroup nor killasgroup is set"
        elif len(values) == 2:
            which = "stopasgroup and killasgroup are both false"
        else:
            (key,) = values
            other = "killasgroup" if key == "stopasgroup" else "stopasgroup"
            which = f"{key} is false and {other} is not set"
        ctx.report(self.code, header, f"this Celery worker's prefork children are orphaned on stop because {which}",
                   end=_line_end(ctx, header))

    # ---- systemd ----------------------------------------------------------------------
    def _systemd(self, ctx) -> None:
        for section in _parse_ini(ctx.text, systemd=True):
            if section.name != "Service":
                continue
            commands: list[str] = []
            for entry in section.entries:
                if entry.key == "execstart":
                    if entry.value == "":
                        commands = []  # "ExecStart=" resets the list
                    else:
                        commands.append(entry.value.lstrip("@-:+!"))
            worker = None
            for command in commands:
                worker = worker or celery_worker(command)
            if worker is None:
                continue
            entry = None
            for candidate in section.entries:
                if candidate.key in ("timeoutstopsec", "timeoutsec"):
                    entry = candidate  # the last one of either wins
            if entry is None:
                self._judge(ctx, worker, (section.line, 1), "systemd", "TimeoutStopSec", SYSTEMD_DEFAULT,
                            "TimeoutStopSec={}")
                continue
            value = _inline_value(entry.value)
            seconds = systemd_timespan(value)
            if seconds is None:
                continue
            setting = "TimeoutStopSec" if entry.key == "timeoutstopsec" else "TimeoutSec"
            self._judge(ctx, worker, (entry.line, 1), "systemd", setting, SYSTEMD_DEFAULT, "TimeoutStopSec={}",
                        value, seconds)

    # ---- Docker Compose ---------------------------------------------------------------
    def _compose(self, ctx) -> None:
        for doc in _yaml_documents(ctx.text):
            services = _get(doc, "services")
            for name, (key_node, service) in _items(services).items():
                argv = _argv(_get(service, "entrypoint")) + _argv(_get(service, "command"))
                worker = celery_worker(argv) if argv else None
                if worker is None:
                    continue
                pair = _items(service).get("stop_grace_period")
                if pair is None:
                    self._judge(ctx, worker, _mark(key_node), "Docker Compose", "stop_grace_period",
                                COMPOSE_DEFAULT, "stop_grace_period: {}s")
                    continue
                raw = _scalar(pair[1])
                seconds = compose_duration(raw) if raw is not None else None
                if seconds is None:
                    continue
                self._judge(ctx, worker, _mark(pair[0]), "Docker Compose", "stop_grace_period", COMPOSE_DEFAULT,
                            "stop_grace_period: {}s", raw, seconds)

    # ---- Kubernetes -------------------------------------------------------------------
    def _kubernetes(self, ctx) -> None:
        for doc in _yaml_documents(ctx.text):
            for spec_key, pod_spec in _pod_specs(doc):
                worker = None
                containers = _get(pod_spec, "containers")
                for container in getattr(containers, "value", []) if containers is not None else []:
                    argv = _argv(_get(container, "command")) + _argv(_get(container, "args"))
                    found = celery_worker(argv) if argv else None
                    if found is not None and (worker is None or (found.time_limit or 0) > (worker.time_limit or 0)):
                        worker = found
                if worker is None:
                    continue
                pair = _items(pod_spec).get("terminationGracePeriodSeconds")
                if pair is None:
                    self._judge(ctx, worker, _mark(spec_key), "Kubernetes", "terminationGracePeriodSeconds",
                                KUBERNETES_DEFAULT, "terminationGracePeriodSeconds: {}")
                    continue
                raw = _scalar(pair[1])
                seconds = _seconds_int(raw) if raw is not None else None
                if seconds is None:
                    continue
                self._judge(ctx, worker, _mark(pair[0]), "Kubernetes", "terminationGracePeriodSeconds",
                            KUBERNETES_DEFAULT, "terminationGracePeriodSeconds: {}", raw, seconds)


def _mark(node) -> tuple[int, int]:
    """1-based (line, column) where a YAML node starts."""
    return node.start_mark.line + 1, node.start_mark.column + 1


def _line_end(ctx, where: tuple[int, int]) -> tuple[int, int]:
    """The end of the reported line's content (a trailing comment left out)."""
    line, col = where
    text = ctx.lines[line - 1] if 0 < line <= len(ctx.lines) else ""
    text = re.split(r"\s+[#;]", text, maxsplit=1)[0].rstrip()
    return line, max(len(text) + 1, col)


def _seconds_int(text: str) -> float | None:
    text = text.strip()
    if re.fullmatch(r"\d+", text):
        return float(text)
    return None


def _pod_specs(doc) -> Iterator[tuple]:
    """(key node of ``spec``, pod spec node) of every pod a manifest describes."""
    kind = _scalar(_get(doc, "kind")) or ""
    if kind == "List":
        items = _get(doc, "items")
        for item in getattr(items, "value", []) if items is not None else []:
            yield from _pod_specs(item)
        return
    spec_pair = _items(doc).get("spec")
    if spec_pair is None:
        return
    if kind == "Pod":
        yield spec_pair
        return
    spec = spec_pair[1]
    if kind == "CronJob":
        spec = _get(spec, "jobTemplate", "spec")
    template = _get(spec, "template")
    if template is None:
        return
    inner = _items(template).get("spec")
    if inner is not None and _get(inner[1], "containers") is not None:
        yield inner


# ---- examples ------------------------------------------------------------------------------

_TASKS_1800 = '''
from celery import shared_task


@shared_task(time_limit=1800, soft_time_limit=1700)
def rebuild_search_index():
    pass
'''

_K8S_WORKER = '''
apiVersion: apps/v1
kind: Deployment
metadata:
  name: worker
spec:
  replicas: 2
  selector:
    matchLabels: {app: worker}
  template:
    metadata:
      labels: {app: worker}
    spec:{marker}
{grace}      containers:
        - name: worker
          image: registry.example.com/proj:1.4
          command: ["celery", "-A", "proj", "worker", "--loglevel=INFO"]
'''


def _k8s(grace: str = "", marker: str = "") -> str:
    return _K8S_WORKER.replace("{grace}", f"      terminationGracePeriodSeconds: {grace}\n" if grace else "") \
        .replace("{marker}", marker)


WorkerStopTimeoutTooShort.INVALID = [
    # ---------------- supervisord ----------------
    ex("""
    [program:celery]
        command=/srv/venv/bin/celery -A proj worker
            --loglevel=INFO
        stopwaitsecs=30  # expect: TXL501
        stopasgroup=true
    """, filename="deploy/supervisord.conf",
       note="options indented under their section are options: only a deeper line continues the one before"),
    ex(files={
        "deploy/supervisord.conf": """
        [program:celery]
        command=celery -A proj worker
        stopwaitsecs=700  # expect: TXL501
        stopasgroup=true
        """,
        "proj/__init__.py": "",
        "proj/settings.py": """
        import os

        CELERY_TASK_TIME_LIMIT = int(os.getenv("WORKER_TIMEOUT", 1800))
        """,
    }, check="deploy/supervisord.conf", note="a limit read from the environment counts as its default"),
    ex("""
    [program:celery]  # expect: TXL501
    command=celery -A proj worker --loglevel=INFO
    stopwaitsecs=10  # expect: TXL501
    """, filename="deploy/supervisord.conf", note="the acceptance case: 10 s, and no process group"),
    ex("""
    [program:worker]  # expect: TXL501
    command=/srv/app/venv/bin/celery -A proj worker -l info --concurrency=8
    directory=/srv/app
    user=app
    autostart=true
    autorestart=true
    stopasgroup=true
    """, filename="deploy/supervisord.conf", note="stopwaitsecs missing: default 10 s"),
    ex(files={
        "deploy/supervisor/celery.conf": """
        [program:celery-worker]
        command=celery --app=proj.celery worker --loglevel=INFO
        stopwaitsecs=600  # expect: TXL501
        stopasgroup=true
        """,
        "proj/__init__.py": "",
        "proj/tasks.py": _TASKS_1800,
    }, check="deploy/supervisor/celery.conf", note="the project's tasks may run 1800 s"),
    ex(files={
        "deploy/celery.ini": """
        [program:celery]
        command=python -m celery -A config worker -P gevent -c 200
        stopwaitsecs = 1800  # expect: TXL501
        """,
        "config/__init__.py": "",
        "config/settings.py": """
        CELERY_BROKER_URL = "redis://localhost:6379/0"
        CELERY_TASK_TIME_LIMIT = 60 * 60
        CELERY_TASK_SOFT_TIME_LIMIT = 55 * 60
        """,
    }, check="deploy/celery.ini", note="Django settings, folded arithmetic; gevent pool needs no group"),
    ex("""
    [program:celery]  # expect: TXL501
    command=/srv/venv/bin/celery --app=proj.celery worker
    stopwaitsecs=600
    killasgroup=false
    """, filename="etc/supervisor/conf.d/celery.conf", note="killasgroup=false: children orphaned"),
    ex("""
    [program:celery]
    command=sh -c "cd /srv/app && exec celery -A proj worker -P solo"
    stopwaitsecs=60  # expect: TXL501
    """, filename="deploy/supervisord.conf"),
    ex("""
    [program:celeryd]  # expect: TXL501
    command=python manage.py celeryd --loglevel=INFO
    stopasgroup=true
    """, filename="deploy/supervisord.conf", note="django-celery's old celeryd command"),
    ex("""
    [supervisord]
    nodaemon=true

    [program:beat]
    command=celery -A proj beat -l info
    stopwaitsecs=10

    [program:worker]
    command=celery -A proj worker -l info -Q default,emails
    stopwaitsecs=20  # expect: TXL501
    stopasgroup=true
    """, filename="supervisord.conf", note="beat is fine, the worker is not"),
    ex("""
    [program:worker]
    command=celery -A proj worker --time-limit=3600 --soft-time-limit=3000
    stopwaitsecs=1200  # expect: TXL501
    stopasgroup=yes
    """, filename="deploy/supervisord.conf", note="the worker's own --time-limit"),
    ex(files={
        "deploy/worker.conf": """
        [program:worker]
        command=celery -A proj worker -l info
        stopwaitsecs=3600  # expect: TXL501
        stopasgroup=true
        killasgroup=true
        """,
        "proj/celery.py": """
        from celery import Celery

        app = Celery("proj")
        app.conf.update(task_time_limit=2 * 60 * 60, worker_prefetch_multiplier=1)
        """,
    }, check="deploy/worker.conf"),
    ex("""
    [program:celery]
    command=%(ENV_VIRTUAL_ENV)s/bin/celery -A proj worker --pool=threads
    stopwaitsecs=10  # expect: TXL501
    """, filename="deploy/supervisord.conf", note="%(ENV_...)s in the command path"),
    ex("""
    [program:celery]  # expect: TXL501
    command=celery -A proj worker
    stopwaitsecs=900
    stopasgroup=false
    killasgroup=off
    """, filename="deploy/supervisord.conf"),
    # ---------------- systemd ----------------
    ex("""
    [Unit]
    Description=Celery Service
    After=network.target

    [Service]  # expect: TXL501
    Type=forking
    User=celery
    Group=celery
    EnvironmentFile=/etc/conf.d/celery
    WorkingDirectory=/opt/celery
    ExecStart=/bin/sh -c '${CELERY_BIN} -A $CELERY_APP multi start $CELERYD_NODES \\
        --pidfile=${CELERYD_PID_FILE} --logfile=${CELERYD_LOG_FILE} $CELERYD_OPTS'
    ExecStop=/bin/sh -c '${CELERY_BIN} multi stopwait $CELERYD_NODES --pidfile=${CELERYD_PID_FILE}'
    Restart=always

    [Install]
    WantedBy=multi-user.target
    """, filename="deploy/celery.service", note="TimeoutStopSec missing: systemd's 90 s"),
    ex("""
    [Service]
    ExecStart=/opt/venv/bin/celery -A proj worker --loglevel=INFO
    TimeoutStopSec=5min  # expect: TXL501
    """, filename="deploy/celery-worker.service"),
    ex(files={
        "deploy/worker.service": """
        [Service]
        ExecStart=/srv/venv/bin/python -m celery -A proj worker
        TimeoutStopSec=1min 30s  # expect: TXL501
        """,
        "proj/tasks.py": _TASKS_1800,
    }, check="deploy/worker.service"),
    ex("""
    [Service]
    Type=simple
    ExecStart=/usr/local/bin/celery --app proj worker -Q reports
    TimeoutSec=30  # expect: TXL501
    """, filename="systemd/reports-worker.service", note="TimeoutSec sets the stop timeout too"),
    ex("""
    [Service]
    ExecStart=
    ExecStart=/srv/venv/bin/celery -A proj worker -E
    TimeoutStopSec=120  # expect: TXL501
    """, filename="deploy/celery.service", note="an empty ExecStart= resets the list"),
    ex(files={
        "deploy/celery.service": """
        [Service]
        ExecStart=/srv/venv/bin/celery -A proj worker \\
            --concurrency=4 \\
            --loglevel=INFO
        TimeoutStopSec=30min  # expect: TXL501
        """,
        "celeryconfig.py": """
        broker_url = "amqp://guest@localhost//"
        task_time_limit = 3600
        """,
    }, check="deploy/celery.service"),
    # ---------------- Docker Compose ----------------
    ex("""
    services:
      web:
        image: proj
        command: gunicorn proj.wsgi -b 0.0.0.0:8000
      worker:  # expect: TXL501
        image: proj
        command: celery -A proj worker -l info
        depends_on: [redis]
      redis:
        image: redis:7
    """, filename="docker-compose.yml", note="stop_grace_period missing: 10 s"),
    ex("""
    services:
      worker:
        build: .
        command: celery -A proj worker --loglevel=INFO
        stop_grace_period: 1m  # expect: TXL501
    """, filename="compose.yaml"),
    ex("""
    services:
      celery:
        image: proj
        command: ["celery", "-A", "proj", "worker", "-l", "info"]
        stop_grace_period: 30s  # expect: TXL501
    """, filename="docker-compose.prod.yml"),
    ex(files={
        "compose.yaml": """
        services:
          worker:
            image: proj
            entrypoint: ["/bin/sh", "-c"]
            command: ["python manage.py migrate --check && exec celery -A proj worker"]
            stop_grace_period: 10m  # expect: TXL501
        """,
        "proj/tasks.py": _TASKS_1800,
    }, check="compose.yaml"),
    ex("""
    x-worker: &worker
      image: proj
      stop_grace_period: 20s  # expect: TXL501
      restart: unless-stopped

    services:
      worker-default:
        <<: *worker
        command: celery -A proj worker -Q default
    """, filename="docker-compose.yml", note="a merge key brings the setting in"),
    ex("""
    services:
      worker-fast:
        image: proj
        command: celery -A proj worker -Q fast
        stop_grace_period: 15m
      worker-slow:  # expect: TXL501
        image: proj
        command: celery -A proj worker -Q slow
    """, filename="docker-compose.override.yml"),
    ex("""
    services:
      worker:
        image: proj
        command: python -m celery --app proj worker --pool threads
        stop_grace_period: "2m30s"  # expect: TXL501
    """, filename="compose.dev.yaml"),
    # ---------------- Kubernetes ----------------
    ex(_k8s(marker="  # expect: TXL501"), filename="k8s/worker.yaml",
       note="terminationGracePeriodSeconds missing: 30 s"),
    ex(_k8s(grace="60  # expect: TXL501"), filename="k8s/worker.yaml"),
    ex("""
    apiVersion: v1
    kind: Service
    metadata:
      name: web
    spec:
      ports: [{port: 80}]
    ---
    apiVersion: apps/v1
    kind: StatefulSet
    metadata:
      name: celery
    spec:
      serviceName: celery
      template:
        spec:
          terminationGracePeriodSeconds: 300  # expect: TXL501
          containers:
            - name: celery
              image: proj
              command: ["/venv/bin/celery"]
              args: ["-A", "proj", "worker", "--concurrency", "4"]
    """, filename="deploy/k8s/celery.yml", note="multi-document YAML"),
    ex("""
    apiVersion: batch/v1
    kind: CronJob
    metadata:
      name: nightly-drain
    spec:
      schedule: "0 3 * * *"
      jobTemplate:
        spec:
          template:
            spec:  # expect: TXL501
              restartPolicy: Never
              containers:
                - name: worker
                  image: proj
                  args: ["celery", "-A", "proj", "worker", "-Q", "nightly"]
    """, filename="k8s/cronjob.yaml"),
    ex("""
    apiVersion: v1
    kind: Pod
    metadata:
      name: celery-debug
    spec:  # expect: TXL501
      containers:
        - name: worker
          image: proj
          command: ["/bin/sh", "-c"]
          args: ["celery -A proj worker -l debug"]
    """, filename="k8s/pod.yaml"),
    ex(files={
        "k8s/worker.yaml": _k8s(grace="900  # expect: TXL501"),
        "proj/celery.py": """
        from celery import Celery

        app = Celery("proj", broker="redis://redis:6379/0")
        app.conf.task_time_limit = 3600
        """,
    }, check="k8s/worker.yaml"),
    ex("""
    apiVersion: v1
    kind: List
    items:
      - apiVersion: apps/v1
        kind: Deployment
        metadata:
          name: worker
        spec:
          template:
            spec:
              terminationGracePeriodSeconds: 120  # expect: TXL501
              containers:
                - name: worker
                  image: proj
                  command: ["celery", "-A", "proj", "worker"]
    """, filename="k8s/list.yaml"),
]

WorkerStopTimeoutTooShort.VALID = [
    # ---------------- supervisord ----------------
    ex("""
    [program:celery]
        command=/srv/venv/bin/celery -A proj worker
            --loglevel=INFO
            --pool=solo
        stopwaitsecs=700
    """, filename="deploy/supervisord.conf",
       note="indented options are read, and the deeper lines continue the command (solo pool: no group)"),
    ex(files={
        "deploy/supervisord.conf": """
        [program:celery]
        command=celery -A proj worker
        stopwaitsecs=1900
        stopasgroup=true
        """,
        "proj/__init__.py": "",
        "proj/celery.py": """
        from celery import Celery
        from environs import Env

        env = Env()
        app = Celery("proj")
        app.conf.task_time_limit = env.int("TASK_TIME_LIMIT", default=1800)
        """,
    }, check="deploy/supervisord.conf", note="a settings helper's default (1800 s) is within the stop time"),
    ex(files={
        "deploy/supervisord.conf": """
        [program:celery]
        command=celery -A proj worker
        stopwaitsecs=600
        stopasgroup=true
        """,
        "proj/__init__.py": "",
        "proj/settings.py": """
        import os

        CELERY_TASK_TIME_LIMIT = int(os.environ["WORKER_TIMEOUT"])
        """,
    }, check="deploy/supervisord.conf", note="a limit from the environment without a default is not known"),
    ex("""
    [program:celery]
    command=celery --app=proj worker --loglevel=INFO
    directory=/path/to/project
    user=nobody
    numprocs=1
    autostart=true
    autorestart=true
    startsecs=10
    ; Need to wait for currently executing tasks to finish at shutdown.
    stopwaitsecs = 600
    ; Causes supervisor to send the termination signal (SIGTERM) to the whole process group.
    stopasgroup=true
    priority=1000
    """, filename="deploy/supervisord.conf", note="Celery's own example"),
    ex(files={
        "deploy/supervisord.conf": """
        [program:celery]
        command=celery -A proj worker --loglevel=INFO
        stopwaitsecs=1900
        stopasgroup=true
        """,
        "proj/tasks.py": _TASKS_1800,
    }, check="deploy/supervisord.conf"),
    ex("""
    [program:celerybeat]
    command=celery -A proj beat --schedule=/var/lib/celery/beat.db
    stopwaitsecs=10
    """, filename="deploy/supervisord.conf", note="beat runs no tasks"),
    ex("""
    [program:flower]
    command=celery -A proj flower --port=5555
    """, filename="deploy/supervisord.conf"),
    ex("""
    [program:web]
    command=gunicorn proj.wsgi:application --workers 4 --bind 0.0.0.0:8000
    stopwaitsecs=10
    """, filename="deploy/supervisord.conf"),
    ex("""
    [program:celery]
    command=celery -A proj worker
    stopwaitsecs=%(ENV_CELERY_STOP_WAIT)s
    stopasgroup=true
    """, filename="deploy/supervisord.conf", note="not statically known"),
    ex("""
    [program:celery]
    command=celery -A proj worker -P gevent -c 500
    stopwaitsecs=600
    """, filename="deploy/supervisord.conf", note="gevent: one process, nothing orphaned"),
    ex(files={
        "deploy/supervisord.conf": """
        [program:celery]
        command=/srv/venv/bin/celery -A proj worker
        stopwaitsecs=7500
        killasgroup=true
        """,
        "proj/celery.py": """
        from celery import Celery

        app = Celery("proj")
        app.conf.update({"task_time_limit": 2 * 60 * 60})
        """,
    }, check="deploy/supervisord.conf"),
    ex("""
    [program:worker]
    command=/srv/bin/start-worker.sh
    stopwaitsecs=10
    """, filename="deploy/supervisord.conf", note="a wrapper script: its command is not known"),
    ex("""
    [program:worker]
    command=celery -A proj worker --time-limit=300
    stopwaitsecs=400
    stopasgroup=true
    """, filename="deploy/supervisord.conf", note="the worker's own limit bounds the shutdown"),
    ex("""
    [program:monitor]
    command=celery -A proj inspect active
    """, filename="deploy/supervisord.conf"),
    # ---------------- systemd ----------------
    ex("""
    [Service]
    ExecStart=/opt/venv/bin/celery -A proj worker
    TimeoutStopSec=infinity
    """, filename="deploy/celery.service"),
    ex("""
    [Service]
    ExecStart=/opt/venv/bin/celery -A proj worker
    TimeoutStopSec=10min
    """, filename="deploy/celery.service"),
    ex(files={
        "deploy/celery.service": """
        [Service]
        ExecStart=/opt/venv/bin/celery -A proj worker
        TimeoutStopSec=1h
        """,
        "proj/tasks.py": _TASKS_1800,
    }, check="deploy/celery.service"),
    ex("""
    [Service]
    ExecStart=/srv/venv/bin/gunicorn proj.wsgi
    """, filename="deploy/web.service"),
    ex("""
    [Service]
    ExecStart=/srv/venv/bin/celery -A proj beat
    """, filename="deploy/celerybeat.service"),
    ex("""
    [Service]
    ExecStart=/srv/venv/bin/celery -A proj worker
    ExecStart=
    ExecStart=/srv/venv/bin/gunicorn proj.wsgi
    """, filename="deploy/web.service", note="the celery ExecStart was reset"),
    ex("""
    [Service]
    Type=forking
    ExecStart=/bin/sh -c '${CELERY_BIN} -A $CELERY_APP multi start $CELERYD_NODES $CELERYD_OPTS'
    TimeoutStopSec=900
    """, filename="deploy/celery.service"),
    # ---------------- Docker Compose ----------------
    ex("""
    services:
      worker:
        image: proj
        command: celery -A proj worker -l info
        stop_grace_period: 10m
    """, filename="docker-compose.yml"),
    ex(files={
        "compose.yaml": """
        services:
          worker:
            image: proj
            command: ["celery", "-A", "proj", "worker"]
            stop_grace_period: 1h
        """,
        "proj/tasks.py": _TASKS_1800,
    }, check="compose.yaml"),
    ex("""
    services:
      beat:
        image: proj
        command: celery -A proj beat -l info
      flower:
        image: proj
        command: celery -A proj flower
    """, filename="docker-compose.yml"),
    ex("""
    services:
      worker:
        image: proj-worker:latest
        environment:
          CELERY_BROKER_URL: redis://redis:6379/0
    """, filename="docker-compose.yml", note="the command comes from the image: not known"),
    ex("""
    services:
      worker:
        image: proj
        command: celery -A proj worker
        stop_grace_period: ${WORKER_GRACE:-10m}
    """, filename="docker-compose.yml", note="interpolated: not known"),
    ex("""
    services:
      web:
        image: proj
        command: gunicorn proj.wsgi
    """, filename="compose.yml"),
    # ---------------- Kubernetes ----------------
    ex(files={
        "k8s/worker.yaml": _k8s(grace="3600"),
        "proj/tasks.py": _TASKS_1800,
    }, check="k8s/worker.yaml"),
    ex(_k8s(grace="600"), filename="k8s/worker.yaml"),
    ex("""
    apiVersion: apps/v1
    kind: Deployment
    metadata:
      name: web
    spec:
      template:
        spec:
          containers:
            - name: web
              image: proj
              command: ["gunicorn", "proj.wsgi", "-b", "0.0.0.0:8000"]
    """, filename="k8s/web.yaml"),
    ex("""
    apiVersion: apps/v1
    kind: Deployment
    metadata:
      name: {{ include "proj.fullname" . }}-worker
    spec:
      template:
        spec:
          {{- with .Values.nodeSelector }}
          nodeSelector:
            {{- toYaml . | nindent 8 }}
          {{- end }}
          containers:
            - name: worker
              command: ["celery", "-A", "proj", "worker"]
    """, filename="chart/templates/worker.yaml", note="a Helm template is skipped"),
    ex("""
    apiVersion: v1
    kind: Pod
    metadata:
      name: beat
    spec:
      containers:
        - name: beat
          image: proj
          args: ["celery", "-A", "proj", "beat"]
    """, filename="k8s/beat.yaml"),
    ex("""
    apiVersion: apps/v1
    kind: Deployment
    metadata:
      name: worker
    spec:
      template:
        spec:
          terminationGracePeriodSeconds: 900
          containers:
            - name: worker
              image: proj
              command: ["celery", "-A", "proj", "worker", "--time-limit", "600"]
    """, filename="k8s/worker.yaml"),
    ex("""
    apiVersion: apps/v1
    kind: Deployment
    metadata:
      name: worker
    spec:
      template:
        spec:
          containers:
            - name: worker
              image: proj-worker
              args: ["worker", "-A", "proj"]
    """, filename="k8s/worker.yaml", note="the image's entrypoint is not known"),
    ex("""
    apiVersion: v1
    kind: ConfigMap
    metadata:
      name: settings
    data:
      CELERY_TASK_TIME_LIMIT: "1800"
    ---
    apiVersion: apps/v1
    kind: Deployment
    metadata:
      name: worker
    spec:
      template:
        spec:
          terminationGracePeriodSeconds: 660
          containers:
            - name: worker
              image: proj
              command: ["celery", "-A", "proj", "worker"]
    """, filename="k8s/all.yaml"),
]
