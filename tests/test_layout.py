"""The top-level constructs/ folder must never shadow the `constructs` library."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

from conftest import REPO, run

PROBE = "import constructs, cdk8s, cdktn, aiops_constructs; print(constructs.__file__); print(aiops_constructs.__file__)"


def test_constructs_folder_is_not_a_package():
    assert (REPO / "constructs").is_dir()
    assert not (REPO / "constructs" / "__init__.py").exists()


def test_python_started_at_the_root_imports_the_library(tmp_path):
    # `python -c` puts the working folder first on sys.path: exactly the case that shadowed.
    for cwd in (REPO, REPO / "constructs"):
        result = run([sys.executable, "-c", PROBE], cwd)
        assert result.returncode == 0, result.stderr
        library, ours = result.stdout.splitlines()
        assert "site-packages" in library and Path(library).name == "__init__.py"
        assert Path(ours).parent == REPO / "constructs" / "aiops_constructs"


def test_python_with_the_root_on_pythonpath_imports_the_library():
    result = run([sys.executable, "-c", PROBE], REPO / "tests", env={"PYTHONPATH": str(REPO)})
    assert result.returncode == 0, result.stderr
    assert "site-packages" in result.stdout.splitlines()[0]


def test_the_probe_catches_a_shadowing_package(tmp_path):
    """Control: a constructs/__init__.py really does break cdk8s, so the tests above can fail."""
    shutil.copytree(REPO / "constructs", tmp_path / "constructs")
    (tmp_path / "constructs" / "__init__.py").write_text("")
    result = run([sys.executable, "-c", "import cdk8s"], tmp_path)
    assert result.returncode != 0
    assert "constructs" in result.stderr
