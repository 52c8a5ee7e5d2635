"""What editors show for each field of an environment file (schemas/environment.schema.json).

Descriptions of the fields whose pydantic definition carries none, keyed by "<Model>.<field as
written in YAML>", and the instance types of the catalog as an enum per cloud, so that an
editor completes them. `json_schema()` (environment.py) applies both; tests/test_schema.py
checks that every property ends up described.
"""

from __future__ import annotations

from typing import Any

DESCRIPTIONS = {
    "Environment.name": "The environment's name: lowercase letters, digits and '-'; must equal the file name (without .yaml). Names the dist/<name>/ folder, the cluster and its Terraform state.",
    "Environment.description": "Free text about the cluster, for people reading the file.",
    "Environment.cloud": "Where the cluster runs: aws (EKS), azure (AKS) or gcp (GKE).",
    "Environment.region": "The cloud's region id, like us-east-1, eastus or us-central1.",
    "Environment.zones": "Availability zones of the region that the node pools span, like [us-east-1a, us-east-1b] (Azure: [\"1\", \"2\", \"3\"]).",
    "Environment.kubernetesVersion": "The Kubernetes minor version, in quotes, like \"1.36\". `aiops validate` warns when it is out of the cloud's standard support (src/aiops/data/kubernetes_support.yaml).",
    "Environment.costCentre": "The cost centre every resource is tagged (labelled) with as cost-centre.",
    "Environment.git": "The git repository and branch Flux syncs dist/<name>/cluster from, and the Secret with its credentials.",
    "Environment.terraformState": "The remote backend of the environment's Terraform stack: S3 (aws), an azurerm blob container (azure) or GCS (gcp).",
    "Environment.nodePools": "The node pools of the cluster; workloads name the pool they run on.",
    "TerraformState.bucket": "S3 bucket (aws) or GCS bucket (gcp) holding the state; created beforehand.",
    "TerraformState.region": "Region of the S3 bucket (aws).",
    "TerraformState.storageAccount": "Storage account holding the state container (azure).",
    "TerraformState.container": "Blob container holding the state (azure).",
    "TerraformState.resourceGroup": "Resource group of the storage account (azure).",
    "NodePool.name": "The pool's name (on AKS: lowercase letters and digits only, at most 12).",
    "NodePool.instanceType": "The machine type, as the cloud spells it; one the instance catalog lists for the environment's cloud (its vCPU, memory, GPUs and price).",
    "NodePool.min": "Fewest nodes the autoscaler keeps (0 lets the pool scale to zero).",
    "NodePool.desired": "Nodes the pool starts with; the autoscaler owns the size afterwards (min <= desired <= max).",
    "NodePool.max": "Most nodes the autoscaler may add; also sets the Kueue quota of the pool's queue.",
    "NodePool.labels": "Node labels; workloads on the pool get them as their node selector.",
    "NodePool.taints": "Node taints, in Kubernetes spelling; workloads on the pool get the matching tolerations.",
    "NodePool.gpu": "Accelerators attached to each node (Google Cloud); on AWS and Azure the instance type decides the GPUs.",
    "GpuRequest.type": "The accelerator type, like nvidia-tesla-t4 (Google Cloud).",
    "GpuRequest.count": "Accelerators per node.",
    "Taint.key": "The taint's key, like nvidia.com/gpu.",
    "Taint.value": "The taint's value (may be empty).",
    "Taint.effect": "NoSchedule, PreferNoSchedule or NoExecute (Kubernetes spelling; each cloud's is derived).",
    "Workloads.teams": "Teams: a namespace each, with a Kueue LocalQueue for each queue it uses.",
    "Workloads.queues": "Kueue ClusterQueues, each on its own pools; quota = the pools' capacity at max.",
    "Workloads.ray": "A RayCluster (KubeRay): a CPU head and one autoscaled GPU worker group.",
    "Workloads.dask": "A Dask cluster (dask-kubernetes operator) with its autoscaler.",
    "Team.queues": "The queues this team submits to (a LocalQueue each in its namespace).",
    "Queue.name": "The ClusterQueue's name (and that of the teams' LocalQueues for it).",
    "Queue.pools": "The node pools whose capacity the queue hands out; a pool belongs to one queue.",
    "DeploymentWorkload.name": "The Deployment's name (also its HPA's and budget's).",
    "DeploymentWorkload.image": "The container image, pinned: a tag other than latest, or a digest.",
    "DeploymentWorkload.args": "Arguments of the container.",
    "DeploymentWorkload.resources": "CPU, memory and GPUs of each replica.",
    "DeploymentWorkload.autoscaling": "The HPA: replica range and the utilization targets it scales on.",
    "Autoscaling.minReplicas": "Fewest replicas the HPA keeps.",
    "Autoscaling.maxReplicas": "Most replicas the HPA may run.",
    "RayClusterWorkload.name": "The RayCluster's name.",
    "RayClusterWorkload.namespace": "The team namespace it runs in.",
    "RayClusterWorkload.head": "The Ray head: pool, image and resources (no GPU).",
    "RayClusterWorkload.workers": "The GPU worker group: pool, image, replica range and resources.",
    "RayHead.pool": "The node pool of the head (a CPU pool).",
    "RayHead.image": "The head's image; its tag starts with rayVersion.",
    "RayHead.resources": "CPU and memory of the head.",
    "RayWorkerGroup.pool": "The node pool of the workers.",
    "RayWorkerGroup.image": "The workers' image; its tag starts with rayVersion.",
    "RayWorkerGroup.minReplicas": "Fewest workers the Ray autoscaler keeps.",
    "RayWorkerGroup.maxReplicas": "Most workers the Ray autoscaler may start.",
    "RayWorkerGroup.resources": "CPU, memory and GPUs of each worker.",
    "DaskClusterWorkload.name": "The DaskCluster's name.",
    "DaskClusterWorkload.namespace": "The team namespace it runs in.",
    "DaskClusterWorkload.pool": "The node pool of the scheduler and workers.",
    "DaskClusterWorkload.image": "The image of the scheduler and workers, pinned.",
    "DaskClusterWorkload.scheduler": "The scheduler's resources.",
    "DaskClusterWorkload.workers": "Worker count, autoscaling range, resources and Dask's memory limit.",
    "DaskScheduler.resources": "CPU and memory of the scheduler.",
    "DaskWorkers.minReplicas": "Fewest workers the DaskAutoscaler keeps.",
    "DaskWorkers.maxReplicas": "Most workers the DaskAutoscaler may start.",
    "DaskWorkers.resources": "CPU and memory of each worker.",
}


def _describe(schema: dict[str, Any]) -> None:
    models = [("Environment", schema), *schema.get("$defs", {}).items()]
    for model, definition in models:
        for name, prop in definition.get("properties", {}).items():
            text = DESCRIPTIONS.get(f"{model}.{name}")
            if text and "description" not in prop:
                prop["description"] = text


def _instance_type_enums(schema: dict[str, Any]) -> None:
    """instanceType: every catalog type (completion), narrowed to the environment's cloud."""
    from aiops.model.catalog import CLOUDS, load_catalog

    catalog = load_catalog()
    pool = schema["$defs"]["NodePool"]["properties"]["instanceType"]
    pool["enum"] = sorted({name for cloud in CLOUDS for name in catalog.instance_type_names(cloud)})
    schema["allOf"] = [
        {
            "if": {"properties": {"cloud": {"const": cloud}}, "required": ["cloud"]},
            "then": {"properties": {"nodePools": {"items": {"properties": {"instanceType": {"enum": catalog.instance_type_names(cloud)}}}}}},
        }
        for cloud in CLOUDS
    ]


def document(schema: dict[str, Any]) -> dict[str, Any]:
    _describe(schema)
    _instance_type_enums(schema)
    return schema
