"""TXL501 worker-stop-timeout-too-short: file kinds, command and duration parsing, the project's
task time limit, malformed files, and the pre-commit acceptance case."""

from __future__ import annotations

import os
import textwrap

import pytest

from txlint.celery_config import clear_cache, limits_in_source, project_task_time_limit, scanned_paths
from txlint.configfiles import config_kind
from txlint.context import Options
from txlint.registry import all_codes
from txlint.testing import analyze_project

from txlint.rules.deployment import celery_worker, compose_duration, systemd_timespan


def _write(root, rel, text):
    path = os.path.join(str(root), rel)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w", encoding="utf-8") as handle:
        handle.write(textwrap.dedent(text).lstrip("\n"))
    return path


def _findings(files, check):
    files = {k: textwrap.dedent(v).lstrip("\n") for k, v in files.items()}
    clear_cache()
    result = analyze_project(files, check)
    return [(d.line, d.code, d.message) for d in result.diagnostics]


# ---- which files are examined ---------------------------------------------------------------

@pytest.mark.parametrize("name,content,kind", [
    ("deploy/supervisord.conf", "[program:celery]\ncommand=celery -A p worker\n", "supervisord"),
    ("deploy/celery.ini", "; comment\n  [program:w]\ncommand=x\n", "supervisord"),
    ("setup.cfg", "[metadata]\nname=x\n", None),
    ("tox.ini", "[tox]\nenvlist=py311\n[testenv]\ncommands=pytest\n", None),
    ("nginx.conf", "server { listen 80; }\n", None),
    ("deploy/supervisord.conf", "[supervisord]\nnodaemon=true\n[include]\nfiles=conf.d/*.conf\n", None),
    ("celery.service", "[Service]\nExecStart=/bin/true\n", "systemd"),
    ("docker-compose.yml", "services: {}\n", "compose"),
    ("docker-compose.prod.yaml", "services: {}\n", "compose"),
    ("compose.yaml", "services: {}\n", "compose"),
    ("Compose.override.YML", "services: {}\n", "compose"),
    ("k8s/worker.yaml", "kind: Deployment\nspec:\n  template:\n    spec:\n      containers: []\n", "kubernetes"),
    ("k8s/list.yml", "items:\n  - kind: Pod\n    spec:\n      containers: []\n", "kubernetes"),
    ("k8s/svc.yaml", "kind: Service\nspec:\n  ports: []\n", None),
    ("mkdocs.yml", "site_name: docs\nnav: []\n", None),
    (".github/workflows/ci.yml", "on: push\njobs:\n  t:\n    container: python:3.12\n", None),
    (".pre-commit-config.yaml", "repos: []\n", None),
    ("README.md", "kind: containers:\n", None),
])
def test_config_kind(tmp_path, name, content, kind):
    path = _write(tmp_path, name, content)
    assert config_kind(path) == kind
    assert config_kind(name, content.encode()) == kind  # stdin: bytes at hand


def test_config_kind_of_unreadable_file_is_none(tmp_path):
    assert config_kind(str(tmp_path / "missing.conf")) is None
    assert config_kind(str(tmp_path / "missing.yaml")) is None


def test_analysis_uses_configfiles_for_the_kind(tmp_path):
    from txlint.analysis import file_kind

    path = _write(tmp_path, "deploy/supervisord.conf", "[program:celery]\ncommand=celery -A p worker\n")
    assert file_kind(path) == "supervisord"
    assert file_kind(str(tmp_path / "x.py")) == "python"


# ---- commands -----------------------------------------------------------------------------------

@pytest.mark.parametrize("command,pool", [
    ("celery -A proj worker --loglevel=INFO", "prefork"),
    ("celery worker -A proj", "prefork"),
    ("celery --app=proj.celery worker", "prefork"),
    ("celery --app proj worker -P solo", "solo"),
    ("celery -A proj worker --pool=gevent -c 100", "gevent"),
    ("celery -A proj worker -Peventlet", "eventlet"),
    ("celery -A proj worker --pool threads", "threads"),
    ("celery -A proj worker --pool=prefork", "prefork"),
    ("celery -A proj worker --pool=$POOL", None),
    ("/srv/venv/bin/celery -A proj worker", "prefork"),
    ("python -m celery -A proj worker", "prefork"),
    ("python3.12 -m celery --app=proj worker -B", "prefork"),
    ("celeryd --loglevel=INFO", "prefork"),
    ("python manage.py celeryd", "prefork"),
    ("python manage.py celery worker", "prefork"),
    ("sh -c 'cd /app && exec celery -A proj worker'", "prefork"),
    ("bash -lc \"python manage.py migrate && celery -A proj worker -P solo\"", "solo"),
    ("celery -A proj beat & celery -A proj worker", "prefork"),
    ("${CELERY_BIN} -A $CELERY_APP multi start w1 w2 --pidfile=/run/%n.pid", "prefork"),
    ("watchmedo auto-restart -d . -p '*.py' -- celery -A proj worker", "prefork"),
    (["celery", "-A", "proj", "worker", "-l", "info"], "prefork"),
    (["/bin/sh", "-c", "celery -A proj worker --pool=solo"], "solo"),
])
def test_worker_commands(command, pool):
    worker = celery_worker(command)
    assert worker is not None
    assert worker.pool == pool


@pytest.mark.parametrize("command", [
    "celery -A proj beat",
    "celery -A proj flower --port=5555",
    "celery -A proj inspect active",
    "celery -A proj events",
    "celery -A proj multi stopwait w1",
    "celery -A proj status",
    "gunicorn proj.wsgi -n celery",
    "python -m proj.worker",
    "/srv/bin/start-worker.sh",
    "celery_exporter --broker-url=redis://",
    ["worker", "-A", "proj"],
    "",
])
def test_not_worker_commands(command):
    assert celery_worker(command) is None


def test_worker_time_limit_option():
    assert celery_worker("celery -A p worker --time-limit=300").time_limit == 300
    assert celery_worker("celery -A p worker --time-limit 90 --soft-time-limit 60").time_limit == 90
    assert celery_worker("celery -A p worker").time_limit is None


# ---- durations ----------------------------------------------------------------------------------

@pytest.mark.parametrize("text,seconds", [
    ("600", 600), ("10min", 600), ("1min 30s", 90), ("1h", 3600), ("90s", 90), ("5m", 300),
    ("2 hours", 7200), ("1.5s", 1.5), ("500ms", 0.5), ("infinity", float("inf")), ("0", float("inf")),
    ("1d", 86400), ("abc", None), ("", None), ("10 parsecs", None),
])
def test_systemd_timespan(text, seconds):
    assert systemd_timespan(text) == seconds


@pytest.mark.parametrize("value,seconds", [
    ("10s", 10), ("1m30s", 90), ("1h", 3600), ("2m", 120), (30, 30), ("45", 45), ("1h2m3s", 3723),
    ("500ms", 0.5), ("${GRACE:-10m}", None), ("soon", None),
])
def test_compose_duration(value, seconds):
    assert compose_duration(value) == seconds


# ---- the project's task time limit ------------------------------------------------------------

def test_limits_in_source_finds_every_literal_form():
    found = limits_in_source(textwrap.dedent("""
        from celery import Celery, Task, shared_task
        HOUR = 60 * 60
        app = Celery("p", task_time_limit=11)
        app.conf.task_time_limit = 12
        app.conf["task_time_limit"] = 13
        app.conf.update(task_time_limit=14, task_soft_time_limit=99999)
        app.conf.update({"task_time_limit": 15})
        CELERY_TASK_TIME_LIMIT = 16
        CELERYD_TASK_TIME_LIMIT = 17

        @app.task(time_limit=2 * HOUR, soft_time_limit=99999)
        def a(): pass

        @shared_task(bind=True, time_limit=19)
        def b(self): pass

        class Slow(Task):
            time_limit = 20

        @app.task(time_limit=int(os.environ["X"]))
        def c(): pass
    """))
    assert sorted(v for v, _, _ in found) == [11, 12, 13, 14, 15, 16, 17, 19, 20, 7200]
    assert (7200.0, "time_limit=7200", 12) in found


def test_look_alikes_are_not_limits():
    assert limits_in_source("def f(time_limit=5000):\n    pass\nrun(time_limit=9000)\n") == []
    assert limits_in_source("x.soft_time_limit = 9\nTASK_SOFT_TIME_LIMIT = 9\n") == []
    assert limits_in_source("this is not python (\n") == []


def test_project_scan_skips_excluded_folders_and_is_memoised(tmp_path):
    clear_cache()
    _write(tmp_path, "app/tasks.py", "@app.task(time_limit=1800)\ndef a():\n    pass\n")
    _write(tmp_path, "app/other.py", "@app.task(time_limit=60)\ndef b():\n    pass\n")
    _write(tmp_path, ".venv/lib/celery/x.py", "@app.task(time_limit=99999)\ndef c():\n    pass\n")
    _write(tmp_path, "node_modules/x.py", "CELERY_TASK_TIME_LIMIT = 99999\n")
    _write(tmp_path, "env/pyvenv.cfg", "home = /usr\n")
    _write(tmp_path, "env/lib/y.py", "CELERY_TASK_TIME_LIMIT = 99999\n")
    _write(tmp_path, "app/broken.py", "CELERY_TASK_TIME_LIMIT = (\n")
    _write(tmp_path, "tests/test_slow.py", "@app.task(time_limit=99999)\ndef d():\n    pass\n")
    _write(tmp_path, "app/test_tasks.py", "@app.task(time_limit=99999)\ndef e():\n    pass\n")
    _write(tmp_path, "app/conftest.py", "CELERY_TASK_TIME_LIMIT = 99999\n")
    _write(tmp_path, "docs/conf.py", "CELERY_TASK_TIME_LIMIT = 99999\n")
    assert project_task_time_limit(str(tmp_path)) == (1800.0, "time_limit=1800 in app/tasks.py:1")
    assert os.path.join(str(tmp_path), "app", "tasks.py") in scanned_paths(str(tmp_path))
    _write(tmp_path, "app/more.py", "CELERY_TASK_TIME_LIMIT = 5000\n")
    assert project_task_time_limit(str(tmp_path))[0] == 1800.0  # memoised for this process
    clear_cache()
    assert project_task_time_limit(str(tmp_path))[0] == 5000.0


def test_project_without_limits(tmp_path):
    clear_cache()
    _write(tmp_path, "app/tasks.py", "@app.task\ndef a():\n    pass\n")
    assert project_task_time_limit(str(tmp_path)) is None


# ---- findings -------------------------------------------------------------------------------------

ACCEPTANCE = """
[program:celery]
command=celery -A proj worker --loglevel=INFO
stopwaitsecs=10
"""


def test_acceptance_case_through_discovery(tmp_path):
    """What pre-commit does: the file is named explicitly and its kind comes from discovery."""
    from txlint.analysis import analyze
    from txlint.discovery import Excluder, discover

    path = _write(tmp_path, "deploy/supervisord.conf", ACCEPTANCE)
    (tmp_path / "pyproject.toml").write_text("[project]\nname='x'\n")
    targets = discover([path], Excluder.build([]))
    assert [t.kind for t in targets] == ["supervisord"]
    clear_cache()
    result = analyze(targets[0].path, targets[0].display,
                     Options(enabled=frozenset(all_codes()), project_root=str(tmp_path)), kind=targets[0].kind)
    assert {(d.line, d.code) for d in result.diagnostics} == {(1, "TXL501"), (3, "TXL501")}
    (stop,) = [d for d in result.diagnostics if d.line == 3]
    for words in ("10 s", "stopwaitsecs=10", "600 s", "no task time limit is set"):
        assert words in stop.message
    # the suggested value (what to set) is in the trace, shown by --show-source and in JSON/SARIF
    assert [(t.line, t.note) for t in stop.trace] == [
        (3, "SIGKILL after 10 s; stopwaitsecs=660 lets running tasks finish (no task time limit is set)")]
    (group,) = [d.message for d in result.diagnostics if d.line == 1]
    assert "neither stopasgroup nor killasgroup" in group and "orphaned" in group


def test_message_names_where_the_limit_comes_from():
    found = _findings({
        "deploy/supervisord.conf": """
            [program:celery]
            command=celery -A proj worker
            stopwaitsecs=600
            stopasgroup=true
        """,
        "proj/tasks.py": """
            from celery import shared_task

            @shared_task(time_limit=1800)
            def slow():
                pass
        """,
    }, "deploy/supervisord.conf")
    assert [(line, code) for line, code, _ in found] == [(3, "TXL501")]
    assert "time_limit=1800 in proj/tasks.py:3" in found[0][2]
    assert "1800 s" in found[0][2]


def test_cache_dependencies_include_the_python_files(tmp_path):
    from txlint.analysis import analyze, project_for

    clear_cache()
    path = _write(tmp_path, "deploy/supervisord.conf", ACCEPTANCE)
    tasks = _write(tmp_path, "proj/tasks.py", "@app.task(time_limit=30)\ndef a():\n    pass\n")
    options = Options(enabled=frozenset(all_codes()), project_root=str(tmp_path))
    project = project_for(path, options)
    project.touched = set()
    analyze(path, "deploy/supervisord.conf", options)
    assert tasks in project.touched


@pytest.mark.parametrize("name,text,line", [
    ("deploy/supervisord.conf", "[program:celery]\ncommand=celery -A p worker\nthis line has no delimiter\n", 3),
    ("deploy/supervisord.conf", "command=celery -A p worker\n[program:celery]\n", 1),
    ("deploy/celery.service", "[Service]\nExecStart=/bin/celery -A p worker\n[Unit\n", 3),
    ("docker-compose.yml", "services:\n  worker:\n    command: [celery, worker\n", 4),
    ("k8s/worker.yaml", "kind: Pod\nspec:\n  containers:\n    - name: w\n   bad: indent\n", 5),
])
def test_malformed_files_are_txl000(name, text, line):
    found = _findings({name: text}, name)
    assert [(ln, code) for ln, code, _ in found] == [(line, "TXL000")]


def test_helm_template_that_does_not_parse_is_skipped():
    found = _findings({"chart/templates/worker.yaml": """
        kind: Deployment
        spec:
          template:
            spec:
              {{- with .Values.tolerations }}
              tolerations: {{ toYaml . | nindent 8 }}
              {{- end }}
              containers:
                - command: ["celery", "-A", "proj", "worker"]
    """}, "chart/templates/worker.yaml")
    assert found == []


def test_templated_value_in_yaml_that_parses_is_not_judged():
    found = _findings({"k8s/worker.yaml": """
        kind: Pod
        spec:
          terminationGracePeriodSeconds: "{{ .Values.grace }}"
          containers:
            - command: ["celery", "-A", "proj", "worker"]
    """}, "k8s/worker.yaml")
    assert found == []


def test_suppression_comment_in_supervisord_file():
    found = _findings({"deploy/supervisord.conf": """
        [program:celery]
        command=celery -A proj worker
        stopwaitsecs=10  # txlint: ignore[TXL501]
        stopasgroup=true
    """}, "deploy/supervisord.conf")
    assert found == []


def test_rule_is_not_run_on_python_files():
    found = _findings({"app.py": "COMMAND = 'celery -A proj worker'\nstopwaitsecs = 10\n"}, "app.py")
    assert [code for _, code, _ in found if code == "TXL501"] == []


def test_each_worker_section_is_judged():
    found = _findings({"supervisord.conf": """
        [program:a]
        command=celery -A proj worker -Q a
        stopwaitsecs=700
        stopasgroup=true

        [program:b]
        command=celery -A proj worker -Q b -P solo
        stopwaitsecs=30

        [program:c]
        command=celery -A proj worker -Q c
        stopwaitsecs=5
        killasgroup=true
    """}, "supervisord.conf")
    assert [(line, code) for line, code, _ in found] == [(8, "TXL501"), (12, "TXL501")]


@pytest.mark.parametrize("name,text", [
    ("docker-compose.yml", ""),
    ("docker-compose.yml", "# nothing\n"),
    ("docker-compose.yml", "- a\n- b\n"),
    ("docker-compose.yml", "services: [worker]\n"),
    ("docker-compose.yml", "services:\n  worker: celery -A p worker\n"),
    ("docker-compose.yml", "services:\n  worker:\n    command: {a: 1}\n    stop_grace_period: [1]\n"),
    ("docker-compose.yml", "services:\n  worker:\n    command: celery -A p worker\n    stop_grace_period: {x: 1}\n"),
    ("docker-compose.yml", "a: &a\n  <<: *a\nservices:\n  w:\n    <<: *a\n    command: celery worker\n"
                           "    stop_grace_period: 1h\n"),
    ("compose.yaml", "services:\n  w:\n    command: [celery, -A, p, worker, {x: 1}]\n    stop_grace_period: 1h\n"),
    ("k8s/x.yaml", "kind: Deployment\nspec: 3\ncontainers: x\n"),
    ("k8s/x.yaml", "kind: Deployment\nspec:\n  template:\n    spec:\n      containers: {a: b}\n"),
    ("k8s/x.yaml", "kind: [Pod]\nspec:\n  containers:\n    - 5\n"),
    ("k8s/x.yaml", "kind: Pod\nspec:\n  containers:\n    - command: celery -A p worker\n"
                   "  terminationGracePeriodSeconds: 3600\n"),
    ("k8s/x.yaml", "kind: List\nitems: 7\ncontainers: []\n"),
    ("k8s/x.yaml", "--- !!binary aGVsbG8=\n---\nkind: Pod\ncontainers: []\n"),
    ("deploy/supervisord.conf", "[program:x]\n"),
    ("deploy/supervisord.conf", "[program:x]\ncommand=\nstopwaitsecs=abc\n"),
    ("deploy/supervisord.conf", "[program:x]\ncommand='unterminated\nstopwaitsecs=1\n"),
    ("deploy/supervisord.conf", "[program:x]\ncommand=celery -A p worker -P\nstopwaitsecs=-5\nstopasgroup=true\n"),
    ("x.service", "[Service]\nExecStart=celery -A p worker\nTimeoutStopSec=soon\n"),
    ("x.service", "[Service]\nExecStart=\n"),
    ("x.service", "[Unit]\nDescription=x\n"),
])
def test_odd_but_valid_files_do_not_crash(name, text):
    found = _findings({name: text}, name)
    assert all(code in ("TXL000", "TXL501") for _, code, _ in found)
    assert not any("internal error" in msg for _, _, msg in found)


def test_cli_walks_config_files_and_skips_others(tmp_path):
    from conftest import run_txlint

    _write(tmp_path, "pyproject.toml", "[project]\nname = 'proj'\n")
    _write(tmp_path, "deploy/supervisord.conf", ACCEPTANCE)
    _write(tmp_path, "deploy/worker.service", "[Service]\nExecStart=/venv/bin/celery -A proj worker\n")
    _write(tmp_path, "compose.yaml", "services:\n  worker:\n    command: celery -A proj worker\n"
                                     "    stop_grace_period: 1h\n")
    _write(tmp_path, "k8s/worker.yaml", "kind: Pod\nspec:\n  containers:\n    - command: [celery, -A, proj, worker]\n")
    _write(tmp_path, "tox.ini", "[tox]\nenvlist = py311\n")
    _write(tmp_path, "setup.cfg", "[metadata]\nname = proj\n")
    _write(tmp_path, "mkdocs.yml", "site_name: proj\n")
    _write(tmp_path, "nginx.conf", "events {}\n")
    _write(tmp_path, ".github/workflows/ci.yml", "on: push\njobs: {}\n")
    _write(tmp_path, "proj/tasks.py", "from celery import shared_task\n\n\n@shared_task(time_limit=120)\n"
                                      "def ping():\n    return 1\n")
    run = run_txlint("--select", "TXL", "--no-cache", "--format", "json", ".", cwd=str(tmp_path))
    import json

    data = json.loads(run.out)
    got = sorted((d["path"], d["line"], d["code"]) for d in data["diagnostics"])
    assert got == [
        ("deploy/supervisord.conf", 1, "TXL501"),
        ("deploy/supervisord.conf", 3, "TXL501"),
        ("deploy/worker.service", 1, "TXL501"),
        ("k8s/worker.yaml", 2, "TXL501"),
    ], run.out + run.err
    assert data["files_checked"] == 5  # four deployment files and one Python module
    assert run.rc == 1
    msg = next(d["message"] for d in data["diagnostics"] if d["path"] == "deploy/supervisord.conf" and d["line"] == 3)
    assert "time_limit=120 in proj/tasks.py:4" in msg


# ---- files read as their programs read them (contract §16) ----------------------------------------

INDENTED = """
[program:celery]
    command=/srv/venv/bin/celery -A proj worker
        --loglevel=INFO
        {continued}
    stopwaitsecs={wait}
    {group}
"""


def test_supervisord_options_indented_under_their_section_are_options():
    conf = INDENTED.format(continued="--concurrency=4", wait=30, group="stopasgroup=true")
    found = _findings({"deploy/supervisord.conf": conf}, "deploy/supervisord.conf")
    assert [(line, code) for line, code, _ in found] == [(5, "TXL501")]
    assert "stopwaitsecs=30" in found[0][2] and "not set" not in found[0][2]
    conf = INDENTED.format(continued="--concurrency=4", wait=700, group="stopasgroup=true")
    assert _findings({"deploy/supervisord.conf": conf}, "deploy/supervisord.conf") == []


def test_supervisord_deeper_lines_continue_the_option_before_them():
    # --pool=solo is part of the command (no process group needed); without it the prefork pool is
    conf = INDENTED.format(continued="--pool=solo", wait=700, group="")
    assert _findings({"deploy/supervisord.conf": conf}, "deploy/supervisord.conf") == []
    conf = INDENTED.format(continued="--concurrency=4", wait=700, group="")
    found = _findings({"deploy/supervisord.conf": conf}, "deploy/supervisord.conf")
    assert [(line, code) for line, code, _ in found] == [(1, "TXL501")]
    assert "stopasgroup" in found[0][2]


def test_supervisord_section_entries_as_supervisord_reads_them():
    from txlint.rules.deployment import _parse_ini

    text = ("[program:a]\n  command=celery -A p worker\n      -Q slow\n\n      ; a comment\n      -c 2\n"
            "  stopwaitsecs=60\n[program:b]\n\tcommand=x\n\tstopwaitsecs=5\n")
    (a, b) = _parse_ini(text, systemd=False)
    assert [(e.key, e.value, e.line) for e in a.entries] == [
        ("command", "celery -A p worker\n-Q slow\n-c 2", 2), ("stopwaitsecs", "60", 7)]
    assert [(e.key, e.value) for e in b.entries] == [("command", "x"), ("stopwaitsecs", "5")]


@pytest.mark.parametrize("expr", [
    'int(os.getenv("WORKER_TIMEOUT", 1800))',
    'int(os.environ.get("WORKER_TIMEOUT", "1800"))',
    'float(os.getenv("WORKER_TIMEOUT", "1800.0"))',
    'env.int("WORKER_TIMEOUT", default=1800)',
    'env.int("WORKER_TIMEOUT", 1800)',
    'config("WORKER_TIMEOUT", default=1800, cast=int)',
    'int(os.getenv("WORKER_MINUTES", 30)) * 60',
])
def test_a_limit_read_from_the_environment_counts_as_its_default(expr):
    found = limits_in_source(f"import os\n\nCELERY_TASK_TIME_LIMIT = {expr}\n")
    assert found == [(1800.0, "CELERY_TASK_TIME_LIMIT=1800", 3)]


@pytest.mark.parametrize("expr", [
    'int(os.environ["WORKER_TIMEOUT"])',
    'int(os.getenv("WORKER_TIMEOUT"))',
    'env.int("WORKER_TIMEOUT")',
    'int(os.getenv("WORKER_TIMEOUT", "thirty minutes"))',
    'max("WORKER_TIMEOUT", 1800)',
    'compute(1800)',
])
def test_a_limit_from_the_environment_without_a_literal_default_is_unknown(expr):
    assert limits_in_source(f"import os\n\nCELERY_TASK_TIME_LIMIT = {expr}\n") == []


def test_a_thirty_minute_limit_from_the_environment_is_not_taken_as_600_s():
    files = {
        "deploy/supervisord.conf": """
            [program:celery]
            command=celery -A proj worker
            stopwaitsecs=700
            stopasgroup=true
        """,
        "proj/celery.py": """
            import os

            from celery import Celery

            app = Celery("proj")
            app.conf.task_time_limit = int(os.getenv("WORKER_TIMEOUT", 1800))
        """,
    }
    found = _findings(files, "deploy/supervisord.conf")
    assert [(line, code) for line, code, _ in found] == [(3, "TXL501")]
    assert "1800 s" in found[0][2]
    result = analyze_project({k: textwrap.dedent(v).lstrip("\n") for k, v in files.items()},
                             "deploy/supervisord.conf")
    assert "stopwaitsecs=1860" in result.diagnostics[0].trace[0].note


@pytest.mark.parametrize("text", [
    "[program:celery]\n    command=celery -A proj worker\n        --loglevel=INFO\n    stopwaitsecs=30\n",
    "[program:a]\n  command=celery -A p worker\n      -Q slow\n      ; a comment\n      -c 2\n  stopwaitsecs=60\n"
    "[program:b]\n\tcommand=x\n\tstopwaitsecs=5\n",
    "[program:c]\ncommand=celery -A p worker\nstopwaitsecs=70 ; inline\n  stopasgroup=true\n",
    "  [program:d]\n  command = celery worker\n    -A p\n  stopwaitsecs = 900\n",
])
def test_supervisord_sections_read_as_supervisord_reads_them(text):
    """supervisord reads its files with configparser (RawConfigParser with these two settings)."""
    import configparser

    from txlint.rules.deployment import _parse_ini

    oracle = configparser.RawConfigParser(inline_comment_prefixes=(";", "#"), strict=False)
    oracle.read_string(text)
    expected = {s: dict(oracle.items(s)) for s in oracle.sections()}
    mine = {s.name: {e.key: e.value for e in s.entries} for s in _parse_ini(text, systemd=False)}
    assert mine == expected
