"""``txlint server`` end to end: a small LSP client of our own speaks JSON-RPC over the server's
stdio (a subprocess), as an editor does.  Plus the pure helpers (positions, edits) on their own."""

from __future__ import annotations

import json
import os
import pathlib
import queue
import subprocess
import sys
import textwrap
import threading
import time

import pytest

APP = textwrap.dedent('''\
    import sqlite3

    from sqlalchemy import create_engine
    from sqlalchemy.orm import Session

    engine = create_engine("mysql://app@db.internal/app")


    def count_rows(path):
        conn = sqlite3.connect(path)
        rows = conn.execute("SELECT count(*) FROM items").fetchone()
        return rows[0]


    def transfer(session: Session, amount):
        session.begin()
        if amount <= 0:
            return False
        session.execute(UPDATE, {"amount": amount})
        session.commit()
        return True
    ''')


class LspClient:
    """JSON-RPC over the stdio of ``txlint server``; answers the server's own requests."""

    def __init__(self, cwd: str, configuration: dict | None = None, env: dict | None = None):
        self.proc = subprocess.Popen([sys.executable, "-m", "txlint", "server"], cwd=cwd, stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                     env={**os.environ, **(env or {})})
        self.configuration = configuration if configuration is not None else {}
        self.messages: queue.Queue = queue.Queue()
        self.seen: list[dict] = []
        self.next_id = 1
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        stream = self.proc.stdout
        while True:
            headers = {}
            while True:
                line = stream.readline()
                if not line:
                    self.messages.put(None)
                    return
                line = line.decode("ascii").strip()
                if not line:
                    break
                key, _, value = line.partition(":")
                headers[key.strip().lower()] = value.strip()
            body = stream.read(int(headers["content-length"]))
            self.messages.put(json.loads(body))

    def send(self, message: dict) -> None:
        data = json.dumps({"jsonrpc": "2.0", **message}).encode("utf-8")
        self.proc.stdin.write(b"Content-Length: %d\r\n\r\n" % len(data) + data)
        self.proc.stdin.flush()

    def notify(self, method: str, params) -> None:
        self.send({"method": method, "params": params})

    def request(self, method: str, params, timeout: float = 30):
        rid = self.next_id
        self.next_id += 1
        self.send({"id": rid, "method": method, "params": params})
        reply = self.wait(lambda m: m.get("id") == rid and "method" not in m, timeout)
        assert reply is not None, f"no reply to {method}"
        assert "error" not in reply, reply
        return reply.get("result")

    def wait(self, predicate, timeout: float = 30):
        end = time.monotonic() + timeout
        while True:
            left = end - time.monotonic()
            if left <= 0:
                return None
            try:
                message = self.messages.get(timeout=left)
            except queue.Empty:
                return None
            if message is None:
                return None
            self.seen.append(message)
            if "id" in message and "method" in message:  # a request of the server: answer it
                self._answer(message)
                continue
            if predicate(message):
                return message

    def _answer(self, message: dict) -> None:
        if message["method"] == "workspace/configuration":
            result = [self.configuration for _ in message["params"]["items"]]
        else:
            result = None
        self.send({"id": message["id"], "result": result})

    def diagnostics(self, uri: str, predicate=lambda ds: True, timeout: float = 30):
        message = self.wait(lambda m: m.get("method") == "textDocument/publishDiagnostics"
                            and m["params"]["uri"] == uri and predicate(m["params"]["diagnostics"]), timeout)
        return None if message is None else message["params"]

    def initialize(self, root: pathlib.Path, options: dict | None = None) -> dict:
        uri = root.as_uri()
        result = self.request("initialize", {
            "processId": os.getpid(), "rootUri": uri, "workspaceFolders": [{"uri": uri, "name": root.name}],
            "initializationOptions": options,
            "capabilities": {
                "workspace": {"configuration": True},
                "textDocument": {"publishDiagnostics": {"relatedInformation": True},
                                 "hover": {"contentFormat": ["markdown", "plaintext"]},
                                 "codeAction": {"codeActionLiteralSupport": {
                                     "codeActionKind": {"valueSet": ["quickfix", "source.fixAll"]}}}}}})
        self.notify("initialized", {})
        return result

    def open(self, path: pathlib.Path, text: str, version: int = 1) -> str:
        uri = path.as_uri()
        self.notify("textDocument/didOpen", {"textDocument": {"uri": uri, "languageId": "python",
                                                              "version": version, "text": text}})
        return uri

    def change(self, uri: str, version: int, text: str) -> None:
        self.notify("textDocument/didChange", {"textDocument": {"uri": uri, "version": version},
                                               "contentChanges": [{"text": text}]})

    def close(self, timeout: float = 10) -> tuple[int, str]:
        """shutdown, exit; (exit code, stderr)."""
        self.request("shutdown", None)
        self.notify("exit", None)
        try:
            rc = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            rc = "hang"
        return rc, self.proc.stderr.read().decode(errors="replace")

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)


def apply_edits(text: str, edits: list[dict]) -> str:
    """Apply LSP TextEdits (UTF-16 positions) to ``text``."""
    from txlint.server import split_lines

    lines = split_lines(text)

    def offset(pos) -> int:
        if pos["line"] >= len(lines):
            return len(text)
        base = sum(len(line) for line in lines[: pos["line"]])
        units, index, line = 0, 0, lines[pos["line"]]
        while units < pos["character"] and index < len(line):
            units += 2 if ord(line[index]) > 0xFFFF else 1
            index += 1
        return base + index

    for edit in sorted(edits, key=lambda e: (e["range"]["start"]["line"], e["range"]["start"]["character"]),
                       reverse=True):
        start, end = offset(edit["range"]["start"]), offset(edit["range"]["end"])
        text = text[:start] + edit["newText"] + text[end:]
    return text


@pytest.fixture
def workspace(tmp_path):
    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'app'\n")
    (tmp_path / "app").mkdir()
    return tmp_path


@pytest.fixture
def client_for(workspace):
    clients = []

    def make(**kw) -> LspClient:
        client = LspClient(str(workspace), **kw)
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.kill()


def _by_code(diagnostics) -> dict[str, list[dict]]:
    out: dict[str, list[dict]] = {}
    for d in diagnostics:
        out.setdefault(d["code"], []).append(d)
    return out


def test_session_diagnostics_actions_hover_change_and_exit(workspace, client_for):
    path = workspace / "app" / "db.py"
    path.write_text("# the saved file is older than the buffer\n")  # the buffer is what is analysed
    client = client_for()
    init = client.initialize(workspace)
    caps = init["capabilities"]
    assert caps["hoverProvider"] and caps["codeActionProvider"]
    assert init["serverInfo"]["name"] == "txlint"
    uri = client.open(path, APP)

    published = client.diagnostics(uri, lambda ds: bool(ds))
    assert published is not None, client.seen
    found = _by_code(published["diagnostics"])
    assert sorted(found) == ["TXL101", "TXL102", "TXL201", "TXL202", "TXL402"]
    (d201,) = found["TXL201"]
    # 0-based: line 10 column 12 in the file is line 9 character 11
    assert d201["range"] == {"start": {"line": 9, "character": 11}, "end": {"line": 9, "character": 32}}
    assert d201["message"] == "sqlite3 connection is not closed when returning at line 12"
    assert d201["source"] == "txlint" and d201["severity"] == 1
    related = [(r["location"]["range"]["start"]["line"], r["message"]) for r in d201["relatedInformation"]]
    assert related == [(9, "sqlite3 connection acquired here"), (11, "returns here without close()")]
    assert all(r["location"]["uri"] == uri for r in d201["relatedInformation"])
    (d402,) = found["TXL402"]
    assert d402["severity"] == 2  # a warning, as in SARIF

    # code actions on the TXL402 finding: its fix and the ignore comment
    actions = client.request("textDocument/codeAction", {"textDocument": {"uri": uri}, "range": d402["range"],
                                                         "context": {"diagnostics": [d402]}})
    titles = [a["title"] for a in actions]
    fix = next(a for a in actions if a["title"].startswith("Fix TXL402"))
    ignore = next(a for a in actions if "ignore" in a["title"].lower() and "TXL402" in a["title"])
    assert fix["kind"] == "quickfix" and fix["diagnostics"][0]["code"] == "TXL402", titles
    fixed = apply_edits(APP, fix["edit"]["changes"][uri])
    assert 'engine = create_engine("mysql://app@db.internal/app", pool_pre_ping=True)\n' in fixed
    assert fixed.replace(", pool_pre_ping=True", "") == APP  # that finding's fix only
    ignored = apply_edits(APP, ignore["edit"]["changes"][uri])
    assert 'engine = create_engine("mysql://app@db.internal/app")  # txlint: ignore[TXL402]\n' in ignored
    assert any(a["kind"] == "source.fixAll.txlint" for a in actions)

    # the TXL201 fix wraps the connection in a with block
    actions = client.request("textDocument/codeAction", {"textDocument": {"uri": uri}, "range": d201["range"],
                                                         "context": {"diagnostics": [d201]}})
    fix201 = next(a for a in actions if a["title"].startswith("Fix TXL201"))
    fixed = apply_edits(APP, fix201["edit"]["changes"][uri])
    assert "with " in fixed.split("def count_rows(path):")[1].split("def transfer")[0]
    assert "pool_pre_ping" not in fixed

    hover = client.request("textDocument/hover", {"textDocument": {"uri": uri},
                                                  "position": {"line": 9, "character": 20}})
    assert hover["contents"]["kind"] == "markdown"
    assert "# TXL201 connection-not-closed" in hover["contents"]["value"]
    assert "## Use instead" in hover["contents"]["value"]
    assert client.request("textDocument/hover", {"textDocument": {"uri": uri},
                                                 "position": {"line": 1, "character": 0}}) is None

    # an unsaved edit that removes transfer() clears its findings
    without = APP.split("def transfer")[0].rstrip() + "\n"
    client.change(uri, 2, without)
    update = client.diagnostics(uri, lambda ds: not any(d["code"] in ("TXL101", "TXL102") for d in ds))
    assert update is not None and update["version"] == 2
    assert sorted(_by_code(update["diagnostics"])) == ["TXL201", "TXL202", "TXL402"]

    rc, err = client.close()
    assert rc == 0
    assert "Traceback" not in err


def test_changes_are_debounced(workspace, client_for):
    path = workspace / "app" / "db.py"
    client = client_for()
    client.initialize(workspace)
    uri = client.open(path, "x = 1\n")
    assert client.diagnostics(uri) is not None
    for version in range(2, 7):
        client.change(uri, version, APP if version == 6 else f"x = {version}\n")
        time.sleep(0.02)
    published = client.diagnostics(uri, lambda ds: bool(ds))
    assert published is not None and published["version"] == 6
    intermediate = [m for m in client.seen if m.get("method") == "textDocument/publishDiagnostics"
                    and m["params"].get("version") in (2, 3, 4, 5)]
    assert intermediate == []  # only the buffer as it was when the typing stopped was analysed
    assert client.close()[0] == 0


def test_code_actions_and_hover_right_after_a_change_see_the_new_buffer(workspace, client_for):
    client = client_for()
    client.initialize(workspace)
    uri = client.open(workspace / "app" / "db.py", "x = 1\n")
    assert client.diagnostics(uri) is not None
    client.change(uri, 2, APP)  # asked before the debounced analysis runs
    line = APP.splitlines().index('engine = create_engine("mysql://app@db.internal/app")')
    rng = {"start": {"line": line, "character": 9}, "end": {"line": line, "character": 9}}
    actions = client.request("textDocument/codeAction", {"textDocument": {"uri": uri}, "range": rng,
                                                         "context": {"diagnostics": []}})
    assert any(a["title"].startswith("Fix TXL402") for a in actions), actions
    hover = client.request("textDocument/hover", {"textDocument": {"uri": uri}, "position": rng["start"]})
    assert "# TXL402 engine-without-liveness-check" in hover["contents"]["value"]
    assert client.close()[0] == 0


def test_settings_from_initialization_options_and_configuration(workspace, client_for):
    path = workspace / "app" / "db.py"
    client = client_for(configuration={})
    client.initialize(workspace, options={"select": ["TXL2"], "ignore": "TXL202"})
    uri = client.open(path, APP)
    published = client.diagnostics(uri, lambda ds: bool(ds))
    assert sorted(_by_code(published["diagnostics"])) == ["TXL201"]
    client.close()

    # workspace/configuration (section txlint) as the client answers it
    client = client_for(configuration={"select": ["TXL4"]})
    client.initialize(workspace)
    uri = client.open(path, APP)
    published = client.diagnostics(uri, lambda ds: sorted(_by_code(ds)) == ["TXL402"], timeout=30)
    assert published is not None, [m for m in client.seen if m.get("method") == "textDocument/publishDiagnostics"]
    client.close()


def test_configuration_file_is_found_and_read_as_the_cli_does(workspace, client_for):
    (workspace / "pyproject.toml").write_text(
        "[project]\nname = 'app'\n\n[tool.txlint]\nignore = ['TXL1']\n"
        "per-file-ignores = { 'app/legacy.py' = ['TXL402'] }\n")
    client = client_for()
    client.initialize(workspace)
    uri = client.open(workspace / "app" / "db.py", APP)
    published = client.diagnostics(uri, lambda ds: bool(ds))
    assert sorted(_by_code(published["diagnostics"])) == ["TXL201", "TXL202", "TXL402"]
    legacy = client.open(workspace / "app" / "legacy.py", APP)
    published = client.diagnostics(legacy, lambda ds: bool(ds))
    assert sorted(_by_code(published["diagnostics"])) == ["TXL201", "TXL202"]
    client.close()


def test_explicit_config_setting_and_a_broken_one(workspace, client_for):
    (workspace / "strict.toml").write_text("select = ['TXL402']\n")
    client = client_for()
    client.initialize(workspace, options={"config": "strict.toml"})
    uri = client.open(workspace / "app" / "db.py", APP)
    published = client.diagnostics(uri, lambda ds: bool(ds))
    assert sorted(_by_code(published["diagnostics"])) == ["TXL402"]
    client.close()

    (workspace / "broken.toml").write_text("select = [\n")
    client = client_for()
    client.initialize(workspace, options={"config": "broken.toml"})
    client.open(workspace / "app" / "db.py", APP)
    shown = client.wait(lambda m: m.get("method") == "window/showMessage")
    assert shown is not None and "configuration error" in shown["params"]["message"]
    assert shown["params"]["type"] == 1
    rc, err = client.close()
    assert rc == 0 and "Traceback" not in err


def test_exit_without_shutdown_is_1_and_eof_ends_the_server(workspace, client_for):
    client = client_for()
    client.initialize(workspace)
    client.notify("exit", None)
    assert client.proc.wait(10) == 1
    client = client_for()
    client.initialize(workspace)
    client.proc.stdin.close()
    assert client.proc.wait(10) in (0, 1)
    assert "Traceback" not in client.proc.stderr.read().decode()


def test_server_is_not_imported_by_a_check_run(workspace):
    code = ("import sys\nfrom txlint.cli import main\nsys.argv=['txlint','--no-cache','app']\n"
            "try:\n    main()\nexcept SystemExit:\n    pass\n"
            "print('pygls' in sys.modules, 'txlint.server' in sys.modules)\n")
    out = subprocess.run([sys.executable, "-c", code], cwd=str(workspace), capture_output=True, text=True,
                         timeout=60)
    assert out.stdout.strip().splitlines()[-1] == "False False", out.stdout + out.stderr


def test_server_usage_errors():
    out = subprocess.run([sys.executable, "-m", "txlint", "server", "--bogus"], capture_output=True, text=True,
                         timeout=60)
    assert out.returncode == 2 and "unknown argument" in out.stderr and "Traceback" not in out.stderr


# ------------------------------------------------------------------ helpers without a client
def test_positions_are_utf16_code_units_by_default():
    from txlint.server import lsp_position, split_lines

    lines = split_lines('s = "\U0001f600"; conn = connect()\r\nnext\rlast')
    assert [line.rstrip("\r\n") for line in lines] == ['s = "\U0001f600"; conn = connect()', "next", "last"]
    # the connect call starts at code point 17 (1-based 18): the emoji counts twice in UTF-16
    assert lsp_position(lines, 1, 18, "utf-16").character == 18
    assert lsp_position(lines, 1, 18, "utf-32").character == 17
    assert lsp_position(lines, 1, 18, "utf-8").character == 20
    assert lsp_position(lines, 3, 1, "utf-16").line == 2


def test_ignore_edits():
    from txlint.server import ignore_edit

    def apply(text, line, code, kind="python"):
        edit = ignore_edit(text, line, code, kind, "utf-16")
        return None if edit is None else apply_edits(text, [{"range": {
            "start": {"line": edit.range.start.line, "character": edit.range.start.character},
            "end": {"line": edit.range.end.line, "character": edit.range.end.character}},
            "newText": edit.new_text}])

    assert apply("conn = connect()   \nx = 1\n", 1, "TXL201") == "conn = connect()  # txlint: ignore[TXL201]\nx = 1\n"
    assert apply("conn = connect()  # txlint: ignore[TXL202]\n", 1, "TXL201") == \
        "conn = connect()  # txlint: ignore[TXL202, TXL201]\n"
    assert apply("conn = connect()  # noqa: E501\n", 1, "TXL201") == \
        "conn = connect()  # noqa: E501  # txlint: ignore[TXL201]\n"
    assert apply("conn = connect()  # txlint: ignore[TXL201]\n", 1, "TXL201") is None  # already
    assert apply("conn = connect()  # txlint: ignore\n", 1, "TXL201") is None
    assert apply('conn = connect("""a\nb""")\n', 1, "TXL201") is None  # inside a string
    assert apply("conn = connect(a, \\\n    b)\n", 1, "TXL201") is None  # a continued line
    assert apply("stopwaitsecs=10\n", 1, "TXL501", kind="supervisord") is None  # would change the value
    assert apply("    stop_grace_period: 10s\n", 1, "TXL501", kind="compose") == \
        "    stop_grace_period: 10s  # txlint: ignore[TXL501]\n"


def test_the_ignore_comment_suppresses_the_finding(tmp_path):
    from txlint.server import ClientSettings, analyse, ignore_edit

    path = str(tmp_path / "app.py")
    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'x'\n")
    before = analyse(path, APP, ClientSettings())
    d = next(d for d in before.diagnostics if d.code == "TXL201")
    edit = ignore_edit(APP, d.line, d.code, "python", "utf-16")
    text = apply_edits(APP, [{"range": {"start": {"line": edit.range.start.line, "character": 0},
                                        "end": {"line": edit.range.end.line,
                                                "character": edit.range.end.character}},
                              "newText": edit.new_text}])
    after = analyse(path, text, ClientSettings())
    assert {x.code for x in after.diagnostics if x.line == d.line} == {"TXL202"}


def test_client_settings_merge():
    from txlint.server import ClientSettings

    base = ClientSettings().merged({"select": "TXL1, TXL2", "config": "a.toml"})
    assert base == ClientSettings(select=("TXL1", "TXL2"), config="a.toml")
    assert base.merged({"txlint": {"ignore": ["TXL102"], "unsafeFixes": True}}) == \
        ClientSettings(select=("TXL1", "TXL2"), ignore=("TXL102",), config="a.toml", unsafe_fixes=True)
    assert base.merged({}) == base and base.merged(None) == base
    assert base.merged({"config": None}).config is None
