"""libcst, imported on first use.

Importing libcst costs about 0.1 s, more than the whole analysis of a file that the gate
(:mod:`txlint.gate`) keeps away from it.  Modules write ``from txlint.lazylib import libcst as cst``
and use ``cst.Name`` as usual; the first attribute read imports libcst and copies its namespace
into the proxy, so that later reads are plain attribute lookups.
"""

from __future__ import annotations

import importlib
from typing import Any


class _LazyModule:
    def __init__(self, name: str):
        self.__dict__["_lazy_name"] = name

    def __getattr__(self, attr: str) -> Any:
        module = importlib.import_module(self.__dict__["_lazy_name"])
        self.__dict__.update(vars(module))
        try:
            return self.__dict__[attr]
        except KeyError:
            value = getattr(module, attr)  # a submodule imported since (libcst.metadata)
            self.__dict__[attr] = value
            return value

    def __repr__(self) -> str:  # pragma: no cover
        return f"<lazy module {self.__dict__['_lazy_name']!r}>"


libcst = _LazyModule("libcst")
