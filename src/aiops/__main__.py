from aiops.cli import run

run()
