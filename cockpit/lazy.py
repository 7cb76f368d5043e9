"""Lazy package surfaces: a package lists what it exports, and each name is imported on first use.

A domain package's ``__init__`` is its curated public surface, but importing all of it at once
pulls in LightGBM, pandas, statsforecast or Chroma — for a ``--help``, or for one small schema.
With :func:`lazy_exports` the surface stays the same (``from tools.fraud import FraudModel``
works, ``__all__`` is unchanged) and each name costs its import only when used::

    if TYPE_CHECKING:  # the same names, for type checkers
        from tools.fraud.model import FraudModel

    __getattr__, __dir__ = lazy_exports(__name__, {"tools.fraud.model": ["FraudModel"]})
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Mapping, Sequence
from typing import Any


def lazy_exports(
    package: str, exports: Mapping[str, Sequence[str]], *, modules: Sequence[str] = ()
) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """The module ``__getattr__`` and ``__dir__`` serving ``exports`` (module -> names) and the
    package's own submodules named in ``modules`` (``"ledger"`` for ``tools.payments.ledger``).
    """
    where = {name: module for module, names in exports.items() for name in names}
    where.update({name: f"{package}.{name}" for name in modules})

    def __getattr__(name: str) -> Any:
        module = where.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        loaded = importlib.import_module(module)
        value = loaded if name in modules else getattr(loaded, name)
        setattr(sys.modules[package], name, value)  # later lookups skip this function
        return value

    def __dir__() -> list[str]:
        return sorted(set(where) | set(vars(sys.modules[package])))

    return __getattr__, __dir__


__all__ = ["lazy_exports"]
