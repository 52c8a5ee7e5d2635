"""Kubernetes manifests: a cdk8s App with one Chart per file of dist/.

This module decides which constructs make up an environment and which file each lands in;
the constructs themselves (under constructs/aiops_constructs/k8s) decide what the objects are.

    infrastructure/controllers/   one file per Helm chart (Namespace, source, HelmRelease)
    infrastructure/configs/       Kueue flavors and queues, PriorityClasses, team namespaces
    apps/                         one file per workload
    cluster/                      the Flux Kustomizations that apply them, in that order
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from cdk8s import App, Chart, YamlOutputType

from aiops.layout import EnvironmentLayout
from aiops.model import Environment
from aiops.model.capacity import node_capacity
from aiops.model.queues import queue_quotas, workload_queue
from aiops_constructs.k8s import charts, gpu_operator, priority_classes
from aiops_constructs.k8s.autoscaled_deployment import AutoscaledDeployment
from aiops_constructs.k8s.cluster_autoscaler import ClusterAutoscaler
from aiops_constructs.k8s.cluster_queues import ClusterQueues, QueueProps
from aiops_constructs.k8s.dask_cluster import DaskCluster
from aiops_constructs.k8s.flux_sync import FluxKustomizations, GitSync, SyncedFolder
from aiops_constructs.k8s.gpu_operator import GpuOperator
from aiops_constructs.k8s.helm_release import HelmChartRelease
from aiops_constructs.k8s.kueue import Kueue
from aiops_constructs.k8s.load_balancer_controller import LoadBalancerController
from aiops_constructs.k8s.node_pool_flavors import NodePoolFlavors
from aiops_constructs.k8s.priority_classes import PriorityClasses
from aiops_constructs.k8s.prometheus_adapter import GpuMetricsAdapter
from aiops_constructs.k8s.prometheus_stack import PrometheusStack
from aiops_constructs.k8s.ray_cluster import RayCluster
from aiops_constructs.k8s.serving_ingress import ServingIngress, ServingIngressProps
from aiops_constructs.k8s.security_context import pod_security_labels
from aiops_constructs.k8s.storage_class import EbsDefaultStorageClass
from aiops_constructs.k8s.team_limits import TeamLimits
from aiops_constructs.k8s.team_namespaces import TeamNamespaces, TeamProps
from aiops_constructs.k8s.team_network_policies import TeamNetworkPolicies
from aiops.synth.team_security import network_policies, team_limits

INFRA_CONTROLLERS, INFRA_CONFIGS, APPS = "infra-controllers", "infra-configs", "apps"


@dataclass
class _Files:
    """Maps each cdk8s chart (one output file) to its path in dist/."""

    app: App
    by_chart_file: dict[str, PurePosixPath]

    def chart(self, path: PurePosixPath) -> Chart:
        # cdk8s names the file after the chart id; ids must be unique in the app and may not
        # contain '/', so number them and keep the mapping.
        chart_id = f"chart{len(self.by_chart_file):04d}"
        self.by_chart_file[f"{chart_id}.k8s.yaml"] = path
        return Chart(self.app, chart_id, disable_resource_name_hashes=True)

    def has_files(self, folder: PurePosixPath) -> bool:
        return any(path.parent == folder for path in self.by_chart_file.values())


def _spot_tolerations(environment: Environment) -> tuple[dict[str, str], ...]:
    """Tolerations of the spot taints of the environment's GPU pools (for node agents)."""
    from aiops.model.spot import SPOT_TAINT_KEYS
    from aiops_constructs.k8s.pods import toleration

    found = {}
    for pool in environment.node_pools:
        if pool.gpu_count(environment.cloud):
            for taint in pool.taints:
                if taint.key in SPOT_TAINT_KEYS:
                    found[str(taint)] = toleration(taint)
    return tuple(found[k] for k in sorted(found))


def _gpu_sharing(environment: Environment) -> dict:
    """The GPU operator's sharing props: the time slices and MIG profiles the pools use."""
    from aiops.model.gpu_sharing import mig_profiles

    slices, profiles = set(), {}
    for pool in environment.node_pools:
        time_slicing, mig = pool.sharing()
        if time_slicing:
            slices.add(time_slicing)
        if mig:
            profiles[mig] = (mig_profiles(environment.cloud, pool.instance_type) or {})[mig]
    return {"time_slices": tuple(sorted(slices)), "mig_profiles": profiles}


def _controllers(files: _Files, environment: Environment, folder: PurePosixPath) -> None:
    """The operators and their CRDs: one HelmRelease per file."""
    cloud, workloads = environment.cloud, environment.workloads
    monitoring = PrometheusStack(files.chart(folder / "kube-prometheus-stack.yaml"), "kube-prometheus-stack")
    # GKE installs the driver and device plugin on its GPU pools itself; on EKS and AKS the
    # GPU operator adds the device plugin and the DCGM exporter.
    if cloud != "gcp" and any(pool.gpu_count(cloud) for pool in environment.node_pools):
        GpuOperator(
            files.chart(folder / "gpu-operator.yaml"), "gpu-operator", monitoring=monitoring.release, runtime_class=gpu_operator.RUNTIME_CLASS[cloud],
            extra_tolerations=_spot_tolerations(environment), **_gpu_sharing(environment),
        )
    deployments = [d for d in (workloads.training, workloads.inference) if d is not None]
    if any(d.autoscaling.gpu_utilization is not None for d in deployments):
        GpuMetricsAdapter(
            files.chart(folder / "prometheus-adapter.yaml"),
            "prometheus-adapter",
            prometheus_url=monitoring.prometheus_url,
            prometheus_release=monitoring.release,
        )
    if cloud == "aws":  # EKS has no default StorageClass (AKS and GKE have one); Prometheus' volume needs it
        EbsDefaultStorageClass(files.chart(folder / "storage-class.yaml"), "storage-class")
    if cloud == "aws":  # AKS and GKE run metrics-server and scale their pools themselves
        HelmChartRelease(
            files.chart(folder / "metrics-server.yaml"),
            "metrics-server",
            release="metrics-server",
            namespace="kube-system",
            create_namespace=False,
            source=charts.METRICS_SERVER,
        )
        ClusterAutoscaler(
            files.chart(folder / "cluster-autoscaler.yaml"),
            "cluster-autoscaler",
            cluster_name=environment.name,  # the EKS cluster is named after the environment
            region=environment.region,
            kubernetes_version=environment.kubernetes_version,
        )
    serving = workloads.inference
    if cloud == "aws" and serving is not None and serving.port is not None:
        # The serving Ingress (class alb) needs its controller; EKS does not run one.
        LoadBalancerController(
            files.chart(folder / "aws-load-balancer-controller.yaml"),
            "aws-load-balancer-controller",
            cluster_name=environment.name,  # the EKS cluster, and its VPC's Name tag, are named after the environment
            region=environment.region,
            vpc_name=environment.name,
        )
    # Kueue always: every environment has the ResourceFlavors of its pools.
    Kueue(files.chart(folder / "kueue.yaml"), "kueue")
    if workloads.ray is not None:
        HelmChartRelease(
            files.chart(folder / "kuberay-operator.yaml"),
            "kuberay-operator",
            release="kuberay-operator",
            namespace="kuberay-system",
            source=charts.KUBERAY_OPERATOR,
            namespace_labels=pod_security_labels("restricted"),  # the chart's operator pod meets it (the simulation admits it)
        )
    if workloads.dask is not None:
        HelmChartRelease(
            files.chart(folder / "dask-operator.yaml"),
            "dask-operator",
            release="dask-kubernetes-operator",
            namespace="dask-operator",
            source=charts.DASK_OPERATOR,
            # The chart's container is non-root with every capability dropped; only the pod's
            # seccomp profile is missing for restricted.
            values={"podSecurityContext": {"seccompProfile": {"type": "RuntimeDefault"}}},
            namespace_labels=pod_security_labels("restricted"),
        )


def _configs(files: _Files, environment: Environment, folder: PurePosixPath) -> None:
    """Cluster-wide objects, some of them custom resources of the controllers' CRDs."""
    workloads = environment.workloads
    NodePoolFlavors(files.chart(folder / "node-pools.yaml"), "node-pools", environment=environment)
    PriorityClasses(files.chart(folder / "priority-classes.yaml"), "priority-classes")
    if workloads.teams:
        TeamNamespaces(
            files.chart(folder / "teams.yaml"), "teams",
            teams=[TeamProps(team.name, tuple(team.queues), team.pod_security) for team in workloads.teams],
        )
        # Who may reach each team's pods, and how much each team may hold (team_security.py).
        policies = files.chart(folder / "network-policies.yaml")
        limits = files.chart(folder / "team-limits.yaml")
        for team in workloads.teams:
            peers, served = network_policies(environment, team.name)
            TeamNetworkPolicies(policies, f"policies-{team.name}", namespace=team.name, peers=peers, served=served)
            TeamLimits(limits, f"limits-{team.name}", props=team_limits(environment, team.name))
    if workloads.queues:
        queues = [QueueProps(q.name, q.flavors, q.namespaces) for q in queue_quotas(environment)]
        ClusterQueues(files.chart(folder / "queues.yaml"), "queues", queues=queues, cohort=environment.name)


def _apps(files: _Files, environment: Environment, folder: PurePosixPath, client_name: str | None = None) -> None:
    """The workloads, one file each. `client_name`: the name clients reach the serving workload
    by, when this environment is one side of a failover pair (its Ingress then serves TLS)."""
    workloads, cloud, zones = environment.workloads, environment.cloud, len(environment.zones)
    for key, filename, priority, hard, shm in (
        # Training pods get a /dev/shm of a quarter of their memory limit for data-loader workers.
        ("training", "training-workers.yaml", priority_classes.TRAINING, False, 25),
        # Serving must survive a zone: its replicas are spread as a rule, not a preference.
        ("inference", "inference-service.yaml", priority_classes.INFERENCE, True, None),
    ):
        deployment = getattr(workloads, key)
        if deployment is not None:
            pool = environment.pool(deployment.pool)
            AutoscaledDeployment(
                files.chart(folder / filename),
                key,
                workload=deployment,
                component=key,
                pool=pool,
                pool_capacity=node_capacity(cloud, pool),
                priority_class=priority,
                zones=zones,
                hard_zone_spread=hard,
                shared_memory_share=shm,
                queue=workload_queue(workloads, key),  # None for serving: it never queues
            )
    serving = workloads.inference
    if serving is not None and serving.port is not None:
        # Every cluster that runs the serving workload can be sent its clients (aiops.failover).
        from aiops.model.cloud_rules import EKS_VPC_CIDR
        from aiops_constructs.serving_tls import gke_address_name, gke_certificate_name, key_vault_certificate_uri

        # GKE serves TLS only as a primary (its traffic stack makes the certificate and address)
        gke_primary = cloud == "gcp" and client_name is not None and environment.failover is None
        tls_host = client_name if cloud in ("aws", "azure") or gke_primary else None
        ServingIngress(
            files.chart(folder / "inference-ingress.yaml"),
            "inference-ingress",
            props=ServingIngressProps(
                cloud=cloud, name=serving.name, namespace=serving.namespace, port=serving.port,
                health_path=serving.readiness_path or "/", source_cidr=EKS_VPC_CIDR if cloud == "aws" else None,
                tls_host=tls_host,
                key_vault_certificate=key_vault_certificate_uri(environment.name, serving.name) if tls_host and cloud == "azure" else None,
                gke_certificate=gke_certificate_name(environment.name, serving.name) if gke_primary else None,
                gke_address=gke_address_name(environment.name, serving.name) if gke_primary else None,
            ),
        )
    if workloads.ray is not None:
        worker_pool = environment.pool(workloads.ray.workers.pool)
        RayCluster(
            files.chart(folder / "ray-cluster.yaml"),
            "ray",
            workload=workloads.ray,
            head_pool=environment.pool(workloads.ray.head.pool),
            worker_pool=worker_pool,
            worker_capacity=node_capacity(cloud, worker_pool),
            priority_class=priority_classes.TRAINING,
            zones=zones,
            queue=workload_queue(workloads, "ray"),
        )
    if workloads.dask is not None:
        DaskCluster(
            files.chart(folder / "dask-cluster.yaml"),
            "dask",
            workload=workloads.dask,
            pool=environment.pool(workloads.dask.pool),
            scheduler_pool=environment.pool(workloads.dask.scheduler.pool or workloads.dask.pool),
            priority_class=priority_classes.BATCH,
            zones=zones,
        )


def _user(files: _Files, environment: Environment, layout: EnvironmentLayout) -> None:
    """The user's own constructs (aiops_constructs.user), each into the file it names."""
    from aiops_constructs import user

    for construct in user.USER_CONSTRUCTS:
        if not construct.applies_to(environment.name):
            continue
        path = layout.flux_layers()[construct.layer] / f"{construct.name}.yaml"
        if path in files.by_chart_file.values():
            raise ValueError(f"UserConstruct {construct.name!r}: {path} is already generated; give the construct another name")
        construct.build(files.chart(path), environment)


def _environment(files: _Files, environment: Environment, kept_folders: frozenset[PurePosixPath] = frozenset(), client_name: str | None = None) -> None:
    layout = EnvironmentLayout(environment.name)
    _controllers(files, environment, layout.infrastructure_controllers)
    _configs(files, environment, layout.infrastructure_configs)
    _apps(files, environment, layout.apps, client_name)
    _user(files, environment, layout)
    GitSync(
        files.chart(layout.flux_system / "gotk-sync.yaml"),
        "sync",
        git=environment.git,
        cluster_path=layout.flux_path(layout.cluster),
    )
    # Controllers (and their CRDs) first, then the custom resources, then the workloads; each
    # waits until the previous one is healthy (wait: true), so no object meets a missing CRD.
    FluxKustomizations(
        files.chart(layout.cluster / "infrastructure.yaml"),
        "infrastructure",
        folders=[
            SyncedFolder(name=INFRA_CONTROLLERS, path=layout.flux_path(layout.infrastructure_controllers), retry_interval="2m", timeout="15m"),
            SyncedFolder(
                name=INFRA_CONFIGS,
                path=layout.flux_path(layout.infrastructure_configs),
                depends_on=(INFRA_CONTROLLERS,),
                retry_interval="2m",
            ),
        ],
    )
    if files.has_files(layout.apps) or any(folder.is_relative_to(layout.apps) for folder in kept_folders):
        FluxKustomizations(
            files.chart(layout.cluster / "apps.yaml"),
            "apps",
            # GPU nodes that scale from zero take minutes to join: allow for it before failing.
            folders=[
                SyncedFolder(name=APPS, path=layout.flux_path(layout.apps), depends_on=(INFRA_CONFIGS,), interval="10m", retry_interval="2m", timeout="15m")
            ],
            defined_elsewhere=(INFRA_CONFIGS,),
        )


def synthesize_kubernetes(environments: list[Environment], outdir: Path, kept_folders: frozenset[PurePosixPath] = frozenset(),
                          client_names: dict[str, str] | None = None) -> dict[PurePosixPath, bytes]:
    """Run the cdk8s synthesis into `outdir` and return each file's bytes by its dist/ path.

    `kept_folders`: dist/ folders that will hold files synth carries along (the user's own
    manifests), so that the Kustomization applying them exists even when no construct writes there.
    `client_names`: environment -> the client name of its failover pair (aiops.failover.client_name).
    """
    files = _Files(App(outdir=str(outdir), yaml_output_type=YamlOutputType.FILE_PER_CHART), {})
    for environment in environments:
        _environment(files, environment, kept_folders, (client_names or {}).get(environment.name))
    files.app.synth()
    return {path: (outdir / name).read_bytes() for name, path in files.by_chart_file.items()}
