"""Environments synthesized at the same time, each in its own process.

Each environment's Terraform side loads its cloud's provider bindings into jsii (seconds of
CPU, most of a synthesis), and one jsii runtime answers one call at a time, so environments
run side by side only in separate processes. A worker is a fresh interpreter (the `spawn`
start method: nothing of the parent's state, no forked jsii child) that synthesizes one
environment and sends its files back; results are yielded as each one finishes.
"""

from __future__ import annotations

import multiprocessing
import time
from collections.abc import Iterator
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from pathlib import Path, PurePosixPath

from aiops.model import Environment


def _one(environment: Environment, source_dir: str, workdir: str, kept_folders: frozenset[PurePosixPath],
         catalog: tuple[str, str] | None, traffic: tuple = ()) -> tuple[str, dict[PurePosixPath, bytes], float]:
    from aiops.model.catalog import use_catalog_text
    from aiops.synth import environment_files

    use_catalog_text(catalog)  # the project's catalog, as in the parent (a fresh interpreter has none)
    started = time.perf_counter()
    files = environment_files(environment, source_dir=source_dir, workdir=Path(workdir), kept_folders=kept_folders, traffic=traffic)
    return environment.name, files, time.perf_counter() - started


def synthesize_in_parallel(
    environments: list[Environment], *, source_dir: str, workdir: Path, jobs: int,
    kept_folders: frozenset[PurePosixPath] = frozenset(), traffic: dict | None = None,
) -> Iterator[tuple[str, dict[PurePosixPath, bytes], float]]:
    """(name, files, seconds) of every environment, in the order they finish."""
    from aiops.model.catalog import repository_catalog_text

    context = multiprocessing.get_context("spawn")
    catalog = repository_catalog_text()
    with ProcessPoolExecutor(max_workers=min(jobs, len(environments)), mp_context=context) as pool:
        pending = {pool.submit(_one, e, source_dir, str(workdir / e.name), kept_folders, catalog, (traffic or {}).get(e.name, ())) for e in environments}
        try:
            while pending:
                done, pending = wait(pending, return_when=FIRST_COMPLETED)
                for future in sorted(done, key=lambda f: f.result()[0] if not f.exception() else ""):
                    yield future.result()
        finally:
            for future in pending:
                future.cancel()
