"""The dashboard's server imports the services' lazily imported libraries once, in the
background (dashboard.preload), so the first visitor of Hot spots or Access does not wait."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_the_lazy_libraries_are_imported_by_the_preload_thread():
    # a fresh interpreter: this test process may have imported them already
    code = (
        "import sys, streamlit.logger\n"
        "from dashboard import preload\n"
        "assert 'spopt.locate' not in sys.modules, 'eager'\n"
        "preload.start.__wrapped__().join(120)\n"
        "missing = [n for n in preload.LAZY_LIBRARIES if n not in sys.modules]\n"
        "assert not missing, missing\n"
        "import gc\n"
        "assert gc.get_freeze_count() > 10000, gc.get_freeze_count()\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=180
    )
    assert done.returncode == 0, done.stderr[-2000:]


def test_every_preloaded_library_is_one_a_service_imports_lazily():
    sources = "\n".join(p.read_text() for p in (ROOT / "grid_model").rglob("*.py"))
    from dashboard.preload import LAZY_LIBRARIES

    for name in LAZY_LIBRARIES:
        assert f"import {name}" in sources or f"from {name} import" in sources, name
