"""Which non-Python files txlint examines (TXL501): supervisord, systemd, Compose, Kubernetes.

:func:`config_kind` is called by file discovery for every ``.ini``/``.conf``/``.service``/``.yaml``/
``.yml`` file it walks, so it decides by name first and then by a cheap look at (at most the first
megabyte of) the bytes; it never parses.  The rule (``rules/deployment.py``) parses properly.
"""

from __future__ import annotations

import os
import re

#: file kinds, as in :data:`txlint.registry.CONFIG_KINDS`
SUPERVISORD = "supervisord"
SYSTEMD = "systemd"
COMPOSE = "compose"
KUBERNETES = "kubernetes"

_COMPOSE_NAME = re.compile(r"(?:docker-)?compose[^/]*\.ya?ml$")
_PROGRAM_SECTION = re.compile(rb"^[ \t]*\[program:", re.MULTILINE)
_KIND_KEY = re.compile(rb"^[ \t]*(?:-[ \t]+)?[\"']?kind[\"']?[ \t]*:", re.MULTILINE)
_CONTAINERS_KEY = re.compile(rb"^[ \t]*(?:-[ \t]+)?[\"']?containers[\"']?[ \t]*:", re.MULTILINE)
_HEAD = 1024 * 1024


def _head(path: str) -> bytes | None:
    try:
        with open(path, "rb") as handle:
            return handle.read(_HEAD)
    except OSError:
        return None


def config_kind(path: str, data: bytes | None = None) -> str | None:
    """The config kind of ``path`` (``data``: its bytes when already at hand, e.g. from stdin),
    or None when it is not a file txlint examines (``setup.cfg``, ``tox.ini``, ``mkdocs.yml``,
    GitHub workflows, ...)."""
    name = os.path.basename(path).lower()
    if name.endswith(".service"):
        return SYSTEMD
    if name.endswith((".yaml", ".yml")):
        if _COMPOSE_NAME.match(name):
            return COMPOSE
        if data is None:
            data = _head(path)
        if data and _KIND_KEY.search(data) and _CONTAINERS_KEY.search(data):
            return KUBERNETES
        return None
    if name.endswith((".conf", ".ini")):
        if data is None:
            data = _head(path)
        if data and _PROGRAM_SECTION.search(data):
            return SUPERVISORD
        return None
    return None
