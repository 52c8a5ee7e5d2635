"""A failover pair from tests/data/ synthesized with the real `aiops synth` in a scratch git
repository, three commits: standby, failed over (`state: active` in the standby's file), failed
back. Used by the traffic tests of primaries on Azure and Google Cloud."""

from __future__ import annotations

import shutil
from pathlib import Path

from conftest import REPO, GitScratch, aiops

DATA = REPO / "tests" / "data"


def project(root: Path, pair: str) -> Path:
    root.mkdir(parents=True)
    shutil.copytree(DATA / pair, root / "environments")
    for name in ("cdk8s.yaml", "cdktf.json"):
        shutil.copy2(REPO / name, root / name)
    (root / ".venv").symlink_to(REPO / ".venv")
    return root


def switched(root: Path, pair: str, standby: str) -> tuple[GitScratch, str, str, str]:
    repo = GitScratch(project(root, pair))
    repo.git("init", "--quiet", "--initial-branch", "main")
    synth = aiops("synth", cwd=repo.root)
    assert synth.returncode == 0, synth.stderr
    base = repo.commit(f"the {pair} pair and its dist/")
    path = repo.root / "environments" / f"{standby}.yaml"
    text = path.read_text()
    assert text.count("  state: standby\n") == 1
    path.write_text(text.replace("  state: standby\n", "  state: active\n"))
    synth = aiops("synth", cwd=repo.root)
    assert synth.returncode == 0, synth.stderr
    failover = repo.commit(f"Fail over to {standby}")
    path.write_text(text)
    synth = aiops("synth", cwd=repo.root)
    assert synth.returncode == 0, synth.stderr
    failback = repo.commit("Fail back")
    return repo, base, failover, failback


def errors_of(tmp_path: Path, monkeypatch, pair: str, file: str, old: str, new: str) -> list[str]:
    """The pair's refusals (aiops.failover.resolve) after one replacement in one of its files."""
    from aiops.failover import resolve
    from aiops.model import InvalidEnvironment, load_environments

    folder = tmp_path / "environments"
    shutil.copytree(DATA / pair, folder)
    path = folder / f"{file}.yaml"
    text = path.read_text()
    assert old in text, old
    path.write_text(text.replace(old, new, 1))
    monkeypatch.chdir(tmp_path)
    try:
        environments = load_environments(Path("environments"))
    except InvalidEnvironment as exc:
        return [str(e) for e in exc.errors]
    return [str(e) for e in resolve(Path("environments"), environments).errors]
