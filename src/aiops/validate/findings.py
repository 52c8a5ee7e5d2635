"""What the validator reports: rules (id, severity, what they catch, the usual fix) and findings."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

Severity = Literal["error", "warning", "info"]
SEVERITIES: tuple[Severity, ...] = ("error", "warning", "info")
RANK = {"error": 3, "warning": 2, "info": 1, "none": 99}


@dataclass(frozen=True)
class Rule:
    id: str
    severity: Severity
    summary: str  # what the rule catches, one line (README, SARIF shortDescription)
    fix: str  # the usual fix; a finding may say something more precise


@dataclass(frozen=True)
class Finding:
    rule: Rule
    file: str
    line: int | None
    message: str
    fix: str | None = None  # None: the rule's own fix
    object: str | None = None  # kind/namespace/name, or a Terraform address
    severity: Severity | None = None  # None: the rule's severity
    extra: dict = field(default_factory=dict, compare=False, repr=False)

    @property
    def level(self) -> Severity:
        return self.severity or self.rule.severity

    @property
    def hint(self) -> str:
        return self.fix or self.rule.fix

    def sort_key(self) -> tuple:
        return (self.file, self.line or 0, self.rule.id, self.object or "", self.message)


RULES: dict[str, Rule] = {}


def rule(id: str, severity: Severity, summary: str, fix: str) -> Rule:
    if id in RULES:
        raise ValueError(f"rule {id} is defined twice")
    RULES[id] = Rule(id, severity, summary, fix)
    return RULES[id]


# --- Reading the input -----------------------------------------------------------------------
INPUT_UNREADABLE = rule("input-unreadable", "error", "a file that cannot be read (permissions, a broken link); the run exits 2", "make the file readable, or leave it out of the paths")
INPUT_UNPARSABLE = rule("input-unparsable", "error", "a YAML or Terraform JSON file that does not parse", "fix the syntax at the line shown")
INPUT_BINARY = rule("input-binary", "error", "a binary or non-UTF-8 file where a manifest was expected", "remove the file from the tree, or save it as UTF-8 YAML")
INPUT_TOO_LARGE = rule("input-too-large", "error", "a file too large to validate (more than 5 MiB)", "split the file into smaller ones")
INPUT_EMPTY = rule("input-empty-document", "warning", "an explicitly empty YAML document (`--- ~`)", "delete the empty document")
RULE_FAILED = rule("rule-failed", "error", "a platform check that stopped on input it did not expect (a bug: please report it with the tree)", "report it with the file that caused it; the schema findings usually point at the odd field")
INPUT_NOT_KUBERNETES = rule("input-not-kubernetes", "warning", "a YAML document without apiVersion and kind (so not a Kubernetes object)", "add apiVersion and kind, or keep non-manifest YAML out of the validated tree")

# --- Schemas ---------------------------------------------------------------------------------
SCHEMA = rule("schema", "error", "an object that its Kubernetes or CRD schema rejects (kubeconform -strict)", "make the field match the schema of this apiVersion and kind")
SCHEMA_DEFAULTED = rule("schema-defaulted", "warning", "a required CRD field left out that the API server fills from the CRD's default before it validates", "write the field explicitly with the value you mean")
SCHEMA_MISSING = rule("schema-missing", "warning", "a kind that no schema in the cache describes (so nothing validated it)", "add its CRD to schemas/crds/ and run `aiops schemas sync`, or pass --crd FILE")
ENVIRONMENT_INVALID = rule("environment-invalid", "error", "an environment file that `aiops synth` refuses (the model's own checks, with synth's message)", "correct the field as the message says")
ENVIRONMENT_SCHEMA = rule("environment-schema", "error", "an environment file that schemas/environment.schema.json rejects", "correct the field as the schema describes (the first line of each environment file points editors at it)")

# --- Platform rules ---------------------------------------------------------------------------
HPA_RESOURCE_METRIC = rule(
    "hpa-resource-metric", "error",
    "an HPA `Resource`/`ContainerResource` metric other than cpu or memory, which metrics-server never serves",
    "scale on GPU utilization through a `Pods` metric (DCGM_FI_DEV_GPU_UTIL from dcgm-exporter via prometheus-adapter) or an `External` metric (KEDA)",
)
EXTENDED_RESOURCE = rule(
    "extended-resource-limit", "error",
    "an extended resource (nvidia.com/gpu, ...) requested without a limit, or with a request different from its limit",
    "set the limit equal to the request (or give only the limit; the request then defaults to it)",
)
GPU_TAINT = rule(
    "gpu-taint-not-tolerated", "error",
    "a pod that requests GPUs but tolerates the taints of none of the environment's GPU pools",
    "add a toleration for the GPU pool's taint, e.g. {key: nvidia.com/gpu, operator: Exists, effect: NoSchedule}",
)
NODE_SELECTOR = rule(
    "node-selector-no-pool", "error",
    "a pod (or Kueue ResourceFlavor) whose nodeSelector or required node affinity matches no node pool it can run on: "
    "no pool of its environment carries the labels, or only pools whose taints it does not tolerate",
    "select labels that a node pool carries (see the pools listed), or add the labels to the pool",
)
POD_EXCEEDS_NODE = rule(
    "pod-exceeds-node", "error",
    "a pod whose requests exceed what one node of every pool it can run on can allocate",
    "lower the pod's requests, or target a pool with larger nodes",
)
GPU_DEMAND = rule(
    "gpu-demand-exceeds-pools", "error",
    "a queue quota, autoscaler maximum or replica count whose GPUs exceed what the matching pools hold at their maximum size",
    "lower the maximum or quota, or raise the pools' max node count",
)
SPOT_UNINTERRUPTIBLE = rule(
    "spot-not-interruptible", "warning",
    "pods that can land on a spot pool (they tolerate its spot taint and select it) from an object that does not say they can be "
    "interrupted (annotation aiops.example/interruptible: \"true\"); the cloud takes spot nodes back at short notice",
    "keep the pods off the spot pool (drop the toleration of its spot taint), or annotate the object aiops.example/interruptible: \"true\" "
    "if they checkpoint and resume",
)
API_REMOVED = rule("api-removed", "error", "an apiVersion that the target Kubernetes version or the pinned CRD no longer serves", "move to the apiVersion named")
API_DEPRECATED = rule("api-deprecated", "warning", "an apiVersion that is deprecated and will stop being served", "move to the apiVersion named")
IMAGE_UNPINNED = rule("image-unpinned", "error", "a container image without a tag, or tagged `latest`", "pin the image to a version tag or a digest (image@sha256:...)")
CONTAINER_RESOURCES = rule(
    "container-resources", "error",
    "a container without cpu and memory requests and limits",
    "set resources.requests and resources.limits for cpu and memory",
)
FLUX_BUILD = rule(
    "flux-build", "error",
    "with --flux: what `aiops flux check` finds when it builds every Kustomization of the git working tree as kustomize-controller does (missing paths, builds that fail, undefined ${VARS}, dependsOn errors, custom resources before their CRDs, ...)",
    "the finding's own fix; reproduce with `aiops flux check --worktree`",
)
FLUX_DEPENDS_ON = rule("flux-depends-on-missing", "error", "a Flux Kustomization `dependsOn` naming no Kustomization of its cluster", "name an existing Kustomization (and its namespace when it differs)")
FLUX_CYCLE = rule("flux-dependency-cycle", "error", "Flux Kustomizations whose dependsOn form a cycle, so none of them ever reconciles", "remove one dependsOn of the cycle")
FLUX_PATH = rule("flux-path-missing", "error", "a Flux Kustomization `path` that does not exist in this repository", "point spec.path at an existing folder, relative to the repository root")
FLUX_SOURCE = rule(
    "flux-source-missing", "error",
    "a HelmRelease whose chart source (spec.chart.spec.sourceRef, spec.chartRef) names no object in the validated tree",
    "correct the reference (kind, name), or define that source (and validate its folder too)",
)
FLUX_CRD_ORDER = rule(
    "flux-crd-order", "error",
    "a custom resource applied by a Flux Kustomization that does not depend on the one installing its CRD",
    "move the custom resource into a Kustomization that dependsOn the one installing the CRD (with wait: true)",
)
AUTOSCALER_TAGS = rule(
    "autoscaler-node-template", "error",
    "an EKS node group that scales from zero without cluster-autoscaler node-template tags for its labels, taints and GPUs",
    "add aws_autoscaling_group_tag resources k8s.io/cluster-autoscaler/node-template/{label,taint,resources}/... on the node group's autoscaling group",
)
INSTANCE_RETIRED = rule("instance-retired", "error", "a node pool on an instance type its cloud has retired", "move the pool to the replacement named")
INSTANCE_RETIRING = rule("instance-retiring", "warning", "a node pool on an instance type whose retirement its cloud has announced", "plan the move to the replacement named")
GPU_POOL_UNTAINTED = rule(
    "gpu-pool-untainted", "warning", "a GPU node pool without the nvidia.com/gpu NoSchedule taint",
    "remove `gpuTaint: false` from the pool (or taint it nvidia.com/gpu:NoSchedule) so that only pods that ask for GPUs land there",
)
KUBERNETES_UNSUPPORTED = rule("kubernetes-unsupported", "warning", "an environment whose kubernetesVersion is past the end of its cloud's standard support (src/aiops/data/kubernetes_support.yaml)", "move kubernetesVersion to a minor version in standard support")
KUBERNETES_SUPPORT_UNKNOWN = rule("kubernetes-support-unknown", "warning", "an environment whose kubernetesVersion the support table does not list for its cloud", "use a version the table lists, or add the version with its dates and source to src/aiops/data/kubernetes_support.yaml")
INSTANCE_UNKNOWN = rule("instance-unknown", "warning", "a node pool whose instance type the catalog does not know, so capacity rules skip it", "add the instance type to catalog/instance_types.yaml (the project catalog) with a sourced price per region")
SECRET_PLAINTEXT = rule(
    "secret-plaintext", "error",
    "a Secret with plaintext data/stringData in a tree that is committed to git",
    "encrypt it with SOPS (Flux decrypts with spec.decryption) or use a SealedSecret/ExternalSecret, and rotate the exposed values",
)

# --- Pod security (workloads the platform did not generate) ----------------------------------
POD_PRIVILEGED = rule(
    "pod-privileged", "error",
    "a privileged container, added capabilities beyond Pod Security's baseline, or the node's network, PID or IPC namespace, outside the namespaces labelled pod-security.kubernetes.io/enforce: privileged",
    "drop the privilege, or run the workload in a namespace labelled pod-security.kubernetes.io/enforce: privileged that exists for node agents",
)
POD_ROOT = rule(
    "pod-runs-as-root", "error",
    "a container that runs as root (runAsUser: 0) outside the namespaces labelled pod-security.kubernetes.io/enforce: baseline or privileged",
    "run as a non-root user (runAsNonRoot: true and a non-zero runAsUser), or move the workload to a namespace labelled for root",
)
POD_HOST_PATH = rule(
    "pod-host-path", "error",
    "a hostPath volume (the node's own files) outside the namespaces labelled pod-security.kubernetes.io/enforce: privileged",
    "use an emptyDir, a PersistentVolumeClaim, a ConfigMap or a Secret instead",
)
NAMESPACE_POD_SECURITY = rule(
    "namespace-pod-security", "warning",
    "a Namespace without a pod-security.kubernetes.io/enforce label, so Pod Security admission enforces nothing there",
    "label it pod-security.kubernetes.io/enforce: restricted (baseline where the workloads need it, privileged only for node agents)",
)
POD_RESTRICTED = rule(
    "pod-security-restricted", "error",
    "a pod template in a namespace whose Pod Security level is restricted that the level rejects (root allowed, privilege escalation, capabilities not dropped, no seccomp profile, a volume type it forbids): the pods are never created",
    "set securityContext runAsNonRoot: true, allowPrivilegeEscalation: false, capabilities.drop: [ALL] and seccompProfile.type: RuntimeDefault, or lower the namespace's level with a reason",
)
