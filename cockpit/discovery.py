"""What the settings point at, found without the API: agent folders and their parsed specs, the
tool modules, optional domain modules, the merchant binding and the eval runner.

The app (:mod:`cockpit.app`) and the host-side CLI commands both need these. Importing the app
for them pulls in every router, the runtime and LangChain (~2 CPU-s per ``cockpit agents …``
process); this module must never import :mod:`cockpit.app`, the API or the runtime.
"""

from __future__ import annotations

import importlib
import importlib.util
import threading
from collections import OrderedDict
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cockpit.config import Settings
from cockpit.specs.registry import BuiltinSpecs, load_builtin_specs

if TYPE_CHECKING:
    from cockpit.db.session import Database
    from cockpit.specs.gate import EvalRunner
    from cockpit.tenancy.keys import MerchantExists
    from cockpit.toolkit.registry import ToolRegistry

#: The payments domain's module that checks a key's merchant binding.
MERCHANT_BINDING = "tools.payments.binding"


def optional_module(name: str) -> Any | None:
    """The module ``name``, imported; None when it (or its package) is not installed."""
    try:
        if importlib.util.find_spec(name) is None:
            return None
    except ModuleNotFoundError:
        return None
    return importlib.import_module(name)


def builtin_agent_dirs(settings: Settings) -> list[Path]:
    """The built-in ``agents`` package's folders, then the settings' extra agent folders."""
    dirs: list[Path] = []
    found = importlib.util.find_spec("agents")
    if found and found.submodule_search_locations:
        dirs += [Path(p) for p in found.submodule_search_locations]
    return dirs + list(settings.agents_path)


#: Parsed built-in specs by the exact bytes of their folders' files (most recent last).
_SPECS: OrderedDict[tuple[tuple[str, bytes], ...], BuiltinSpecs] = OrderedDict()
_SPECS_LOCK = threading.Lock()
_SPECS_KEPT = 8


def _agent_files(folders: list[Path]) -> tuple[tuple[str, bytes], ...]:
    """Every file under the agent folders, with its bytes: what a spec and the files it names
    (``@prompt.md``, ``@planner.yaml``) are read from."""
    found: list[tuple[str, bytes]] = []
    for folder in folders:
        for path in sorted(folder.rglob("*")):
            if path.is_file() and "__pycache__" not in path.parts:
                found.append((str(path), path.read_bytes()))
    return tuple(found)


def builtin_specs(settings: Settings) -> BuiltinSpecs:
    """The built-in and extra agent specs, parsed once per process for the same files.

    Parsing them (pure-Python YAML) was two thirds of an app's start in a warm process (~0.45 s
    of ~0.7 s CPU; a test run starts ~1,000 apps), and ``cockpit serve`` parses them twice
    (its agent check, then the app). Keyed by the files' bytes, not their times: a file
    rewritten within the clock's resolution is still seen. Specs are frozen; each caller gets
    its own mapping.
    """
    folders = builtin_agent_dirs(settings)
    key = _agent_files(folders)
    with _SPECS_LOCK:
        parsed = _SPECS.get(key)
        if parsed is not None:
            _SPECS.move_to_end(key)
    if parsed is None:
        parsed = load_builtin_specs(folders)  # raises on a bad spec: nothing is kept
        with _SPECS_LOCK:
            _SPECS[key] = parsed
            while len(_SPECS) > _SPECS_KEPT:
                _SPECS.popitem(last=False)
    copy = BuiltinSpecs()
    copy.update(parsed)
    copy.paths.update(parsed.paths)
    return copy


def load_tools(settings: Settings, registry: ToolRegistry) -> None:
    """Register the installed tool packages' tools and the settings' tool modules."""
    registry.load_entry_points()
    settings.import_tool_modules()  # also found beside the agents folders and in the cwd


def merchant_lookup(db: Database) -> MerchantExists | None:
    """Key bindings are checked against the payments domain's merchants (None without it)."""
    module = optional_module(MERCHANT_BINDING)
    return None if module is None else module.merchant_exists(db)


def eval_runner(settings: Settings) -> EvalRunner | None:
    """The ``evals`` package's runner (child processes; templates cached in the data dir)."""
    module = optional_module("evals.service")
    if module is None:
        return None
    runner: EvalRunner = module.SubprocessEvalRunner(cache=settings.data_dir / "evals")
    return runner


__all__ = [
    "MERCHANT_BINDING",
    "builtin_agent_dirs",
    "builtin_specs",
    "eval_runner",
    "load_tools",
    "merchant_lookup",
    "optional_module",
]
