"""The layers of CONTRIBUTING.md are checked, not only written: import-linter's contracts in pyproject.toml
(service.core imports no area; routes -> service -> queries in every area; services and queries know no
HTTP) hold, as `make lint` checks them."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

from service.core.settings import PROJECT_ROOT


def test_the_import_contracts_hold():
    lint_imports = shutil.which("lint-imports", path=str(Path(sys.executable).parent))
    assert lint_imports, "import-linter is missing: `make test` installs the test extra"
    done = subprocess.run([lint_imports, "--no-cache"], cwd=PROJECT_ROOT, capture_output=True, text=True,
                          timeout=120, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "0 broken" in done.stdout
