"""The byte prefilter (analysis.may_hold_finding) answers as its one-regex form does: a file it
turns away is never analysed, so a wrong "no" would lose findings silently."""

from __future__ import annotations

import pathlib

import pytest

from txlint.analysis import _PREFILTER, may_hold_finding

SNIPPETS = [
    b"x = 1\n", b"db.query(x)\n", b"dbx = 1\n", b"import sqlalchemy\n", b"obsession = 1\n",
    b"while True:\n    time.sleep(1)\n    Model.objects.all()\n",
    b"while x:\n    stop.wait(1)\n    run_pending()\n",
    b"for m in pubsub.listen():\n    pass\n",
    b"User.query\n", b"q.get(timeout=1)\nUser.query.all()\n", b"",
    # each wait word with each ORM or loop word, in either order, and near misses
    b"User.query.all()\nmsg = q.receive()\n", b"x.objects.\nsleep", b"x.objects\nsleep\n",
    b"x.queryset\nsleep(1)\n", b"awhile\nsleep(1)\n", b"while 1:\n    r.blpop('q')\n",
    b"while 1:\n    r.brpop\n", b"while 1:\n    sleep\n", b"while 1:\n    ev.wait(1)\n",
    b"listen(\nwhile\n", b".get(\nwhile\n", b"X.query\r\nfoo.get(1)\r\n",
]
DATA = sorted(pathlib.Path(__file__).parent.joinpath("testdata").rglob("*.py"))


@pytest.mark.parametrize("data", SNIPPETS + [p.read_bytes() for p in DATA])
def test_same_answer_as_the_regex(data):
    assert may_hold_finding(data) == bool(_PREFILTER.search(data))


def test_both_answers_occur():
    answers = {may_hold_finding(d) for d in SNIPPETS}
    assert answers == {True, False}
