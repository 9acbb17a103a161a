"""Every module imports on its own, first: no import cycle hides behind a lucky import order."""

from __future__ import annotations

import pkgutil
import subprocess
import sys

import lanegate

SCRIPT = """
import importlib, sys
failed = []
for name in sys.argv[1:]:
    for loaded in [m for m in sys.modules if m == "lanegate" or m.startswith("lanegate.")]:
        del sys.modules[loaded]
    try:
        importlib.import_module(name)
    except Exception as exc:
        failed.append(f"{name}: {exc!r}")
print("\\n".join(failed))
"""


def test_every_module_imports_first_in_a_fresh_state():
    names = [m.name for m in pkgutil.walk_packages(lanegate.__path__, "lanegate.") if not m.name.endswith("__main__")]
    assert len(names) > 50
    result = subprocess.run([sys.executable, "-c", SCRIPT, *names], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == ""
