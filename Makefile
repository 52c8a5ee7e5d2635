# The two commands of the README. Both set up what they need first (scripts/bootstrap.sh).
#   make synth   synthesize the reference environments into dist/ and validate them
#   make test    check dist/ and the schema are current, that Flux can reconcile the working
#                tree (aiops flux check) and that Checkov passes dist/'s Terraform, then run the
#                test suite
.PHONY: setup synth test lock clean

setup:
	@scripts/bootstrap.sh

synth: setup
	.venv/bin/aiops synth

test: setup
	.venv/bin/aiops schemas export --check
	.venv/bin/aiops synth --check --full
	.venv/bin/aiops validate dist environments
	.venv/bin/aiops flux check --worktree
	.venv/bin/checkov --config-file .checkov.yaml
	.venv/bin/pytest

# Re-pin Python dependencies after editing pyproject.toml.
lock: setup
	.venv/bin/uv pip compile pyproject.toml --extra dev --generate-hashes --python-version 3.11 \
	  --override tools/lock-overrides.txt --no-header --custom-compile-command "make lock" -o requirements.lock

clean:
	rm -rf .venv node_modules cdk8s.out cdktf.out .pytest_cache
