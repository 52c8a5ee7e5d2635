"""What the synthesized Terraform stacks of the reference environments mean.

Read from the session's one real synthesis (`reference_terraform`). The bytes themselves are
guarded by the dist/ snapshot (test_synth.py); these tests pin what must stay true whatever the
bytes: networks per zone, roles, scaling, autoscaler tags, cost tags, outputs, backends.
"""

from __future__ import annotations

import importlib
import inspect
import json
import re

import pytest

from conftest import REFERENCE_ENVIRONMENTS

PROVIDER_PACKAGES = {"aws": "cdktn_provider_aws", "azurerm": "cdktn_provider_azurerm", "google": "cdktn_provider_google"}


def resources(template: dict, resource_type: str) -> dict[str, dict]:
    return template["resource"].get(resource_type, {})


def binding_parameters(resource_type: str) -> set[str]:
    """The arguments a resource type takes, from the provider bindings (their schema)."""
    provider, _, rest = resource_type.partition("_")
    module = importlib.import_module(f"{PROVIDER_PACKAGES[provider]}.{rest}")
    cls = next(c for c in vars(module).values() if isinstance(c, type) and getattr(c, "TF_RESOURCE_TYPE", None) == resource_type)
    return set(inspect.signature(cls.__init__).parameters)


# --- AWS ---------------------------------------------------------------------------------------


def test_eks_network_has_a_public_and_a_private_subnet_and_a_nat_per_zone(reference_terraform, reference_environments):
    template = reference_terraform["aws-primary"]
    zones = reference_environments["aws-primary"].zones
    subnets = resources(template, "aws_subnet")
    private = {s["availability_zone"]: s for name, s in subnets.items() if name.startswith("private_")}
    public = {s["availability_zone"]: s for name, s in subnets.items() if name.startswith("public_")}
    assert sorted(private) == sorted(public) == sorted(zones)
    for zone in zones:
        assert private[zone]["tags"]["kubernetes.io/role/internal-elb"] == "1"
        assert public[zone]["tags"]["kubernetes.io/role/elb"] == "1"
        assert private[zone]["tags"]["kubernetes.io/cluster/aws-primary"] == public[zone]["tags"]["kubernetes.io/cluster/aws-primary"] == "shared"
    # Each zone's private subnet routes to the internet through the NAT gateway of its own zone.
    zone_id = {z: re.sub(r"[^a-z0-9]+", "_", z) for z in zones}
    for zone in zones:
        route = resources(template, "aws_route")[f"private_default_route_{zone_id[zone]}"]
        assert route["nat_gateway_id"] == f"${{aws_nat_gateway.nat_gateway_{zone_id[zone]}.id}}"
        nat = resources(template, "aws_nat_gateway")[f"nat_gateway_{zone_id[zone]}"]
        assert nat["subnet_id"] == f"${{aws_subnet.public_subnet_{zone_id[zone]}.id}}"
        association = resources(template, "aws_route_table_association")[f"private_route_table_association_{zone_id[zone]}"]
        assert association["subnet_id"] == f"${{aws_subnet.private_subnet_{zone_id[zone]}.id}}"
    private_ids = sorted(f"${{aws_subnet.private_subnet_{zone_id[z]}.id}}" for z in zones)
    assert sorted(resources(template, "aws_eks_cluster")["cluster"]["vpc_config"]["subnet_ids"]) == private_ids
    for group in resources(template, "aws_eks_node_group").values():
        assert set(group["subnet_ids"]) <= set(private_ids)  # nodes never sit in public subnets


def test_eks_roles_carry_their_managed_policies(reference_terraform):
    template = reference_terraform["aws-primary"]
    attached = {(a["role"], a["policy_arn"].rsplit("/", 1)[1]) for a in resources(template, "aws_iam_role_policy_attachment").values()}
    assert attached == {
        ("${aws_iam_role.cluster_role.name}", "AmazonEKSClusterPolicy"),
        ("${aws_iam_role.node_role.name}", "AmazonEKSWorkerNodePolicy"),
        ("${aws_iam_role.node_role.name}", "AmazonEKS_CNI_Policy"),
        ("${aws_iam_role.node_role.name}", "AmazonEC2ContainerRegistryReadOnly"),
        ("${aws_iam_role.ebs_csi_role.name}", "AmazonEBSCSIDriverPolicy"),
    }
    assert resources(template, "aws_eks_cluster")["cluster"]["role_arn"] == "${aws_iam_role.cluster_role.arn}"
    for group in resources(template, "aws_eks_node_group").values():
        assert group["node_role_arn"] == "${aws_iam_role.node_role.arn}"
        assert group["depends_on"] == [f"aws_iam_role_policy_attachment.node_role_{p}" for p in ("AmazonEKSWorkerNodePolicy", "AmazonEKS_CNI_Policy", "AmazonEC2ContainerRegistryReadOnly")]


def test_cluster_autoscaler_role_is_bound_to_its_service_account_only(reference_terraform):
    template = reference_terraform["aws-primary"]
    provider = resources(template, "aws_iam_openid_connect_provider")["oidc_provider"]
    assert provider == {**provider, "url": "${aws_eks_cluster.cluster.identity[0].oidc[0].issuer}", "client_id_list": ["sts.amazonaws.com"]}
    (trust,) = template["data"]["aws_iam_policy_document"]["cluster_autoscaler_trust"]["statement"]
    assert trust["principals"] == [{"type": "Service", "identifiers": ["pods.eks.amazonaws.com"]}]
    assert trust["actions"] == ["sts:AssumeRole", "sts:TagSession"]
    association = resources(template, "aws_eks_pod_identity_association")["cluster_autoscaler_pod_identity"]
    assert {k: association[k] for k in ("cluster_name", "namespace", "service_account", "role_arn")} == {
        "cluster_name": "${aws_eks_cluster.cluster.name}",
        "namespace": "kube-system",
        "service_account": "cluster-autoscaler",
        "role_arn": "${aws_iam_role.cluster_autoscaler.arn}",
    }
    assert resources(template, "aws_eks_addon")["pod_identity_agent"]["addon_name"] == "eks-pod-identity-agent"
    assert association["depends_on"] == ["aws_eks_addon.pod_identity_agent"]
    read, nodegroups, scale = template["data"]["aws_iam_policy_document"]["cluster_autoscaler_permissions"]["statement"]
    assert read["resources"] == ["*"] and "autoscaling:SetDesiredCapacity" not in read["actions"]
    # What IAM can scope is scoped: this cluster's node groups, autoscaling groups only.
    assert nodegroups == {**nodegroups, "actions": ["eks:DescribeNodegroup"], "resources": ["arn:${data.aws_partition.current.partition}:eks:*:*:nodegroup/aws-primary/*/*"]}
    assert scale["actions"] == ["autoscaling:SetDesiredCapacity", "autoscaling:TerminateInstanceInAutoScalingGroup"]
    assert scale["resources"] == ["arn:${data.aws_partition.current.partition}:autoscaling:*:*:autoScalingGroup:*:autoScalingGroupName/*"]
    assert scale["condition"] == [{"test": "StringEquals", "variable": "aws:ResourceTag/k8s.io/cluster-autoscaler/aws-primary", "values": ["owned"]}]


def test_the_ebs_csi_driver_gets_its_policy_through_pod_identity(reference_terraform):
    template = reference_terraform["aws-primary"]
    addon = resources(template, "aws_eks_addon")["ebs_csi_driver"]
    assert addon["addon_name"] == "aws-ebs-csi-driver"
    assert addon["pod_identity_association"] == [{"role_arn": "${aws_iam_role.ebs_csi_role.arn}", "service_account": "ebs-csi-controller-sa"}]
    assert addon["depends_on"][0] == "aws_eks_addon.pod_identity_agent"
    assert {d for d in addon["depends_on"] if d.startswith("aws_eks_node_group.")} == {f"aws_eks_node_group.{g}" for g in resources(template, "aws_eks_node_group")}
    (trust,) = template["data"]["aws_iam_policy_document"]["ebs_csi_role_trust"]["statement"]
    assert trust["principals"] == [{"type": "Service", "identifiers": ["pods.eks.${data.aws_partition.current.dns_suffix}"]}]
    attachment = resources(template, "aws_iam_role_policy_attachment")["ebs_csi_role_service_role_AmazonEBSCSIDriverPolicy"]
    assert attachment["policy_arn"] == "arn:${data.aws_partition.current.partition}:iam::aws:policy/service-role/AmazonEBSCSIDriverPolicy"


def asg_tags(template: dict, group: str) -> dict[str, tuple[str, bool]]:
    """key -> (value, propagate_at_launch) of the tags put on a node group's autoscaling group."""
    name = f"${{aws_eks_node_group.{group}.resources[0].autoscaling_groups[0].name}}"
    return {r["tag"]["key"]: (r["tag"]["value"], r["tag"]["propagate_at_launch"]) for r in resources(template, "aws_autoscaling_group_tag").values() if r["autoscaling_group_name"] == name}


def test_gpu_training_can_scale_from_zero(reference_terraform):
    """An empty gpu-training group still tells cluster-autoscaler what a node would bring.

    Only node-template tags: the discovery tags (`.../enabled`, `.../aws-primary`) are EKS's own on
    every managed node group's autoscaling group; owning them in Terraform would delete them the
    day `min` rises above 0 and these resources go.
    """
    template = reference_terraform["aws-primary"]
    assert resources(template, "aws_eks_node_group")["node_group_gpu_training"]["scaling_config"]["min_size"] == 0
    assert asg_tags(template, "node_group_gpu_training") == {
        "k8s.io/cluster-autoscaler/node-template/label/workload-type": ("ml-training", False),
        "k8s.io/cluster-autoscaler/node-template/label/gpu-type": ("v100", False),
        "k8s.io/cluster-autoscaler/node-template/label/k8s.amazonaws.com/accelerator": ("nvidia-tesla-v100", False),
        "k8s.io/cluster-autoscaler/node-template/taint/nvidia.com/gpu": ("true:NoSchedule", False),
        "k8s.io/cluster-autoscaler/node-template/resources/nvidia.com/gpu": ("1", False),
        # cost allocation, copied to every instance the group launches
        "environment": ("aws-primary", True),
        "cost-centre": ("ml-platform", True),
        "managed-by": ("aiops-gitops", True),
        "node-pool": ("gpu-training", True),
    }


def test_pools_that_never_empty_get_only_cost_tags_on_their_group(reference_terraform):
    template = reference_terraform["aws-primary"]
    for group, pool in (("node_group_gpu_inference_us_east_1a", "gpu-inference"), ("node_group_cpu_compute", "cpu-compute")):
        assert asg_tags(template, group) == {
            "environment": ("aws-primary", True), "cost-centre": ("ml-platform", True), "managed-by": ("aiops-gitops", True), "node-pool": (pool, True)
        }


@pytest.mark.parametrize(
    ("environment", "resource_type", "path"),
    [
        ("aws-primary", "aws_eks_node_group", ["scaling_config[0].desired_size"]),
        ("azure-dr", "azurerm_kubernetes_cluster", ["default_node_pool[0].node_count"]),
        ("azure-dr", "azurerm_kubernetes_cluster_node_pool", ["node_count"]),
        ("gcp-burst", "google_container_node_pool", ["initial_node_count"]),
    ],
)
def test_terraform_leaves_the_current_size_to_the_autoscaler(reference_terraform, environment, resource_type, path):
    for resource in resources(reference_terraform[environment], resource_type).values():
        assert resource["lifecycle"] == {"ignore_changes": path}


# --- Azure and Google ---------------------------------------------------------------------------


def test_aks_pools_autoscale_in_the_cluster_subnet(reference_terraform):
    template = reference_terraform["azure-dr"]
    cluster = resources(template, "azurerm_kubernetes_cluster")["cluster"]
    system = cluster["default_node_pool"]
    assert (system["name"], system["min_count"], system["node_count"], system["max_count"], system["auto_scaling_enabled"]) == ("system", 1, 2, 3, True)
    assert system["zones"] == ["1", "2", "3"]
    # The serving pool `gpu` (min 2, desired 2, max 20) is one user pool per zone (aiops.model.zonal).
    pools = resources(template, "azurerm_kubernetes_cluster_node_pool")
    assert {name: (p["name"], p["mode"], p["zones"], p["min_count"], p["node_count"], p["max_count"], p["auto_scaling_enabled"]) for name, p in pools.items()} == {
        "node_pool_gpu1": ("gpu1", "User", ["1"], 1, 1, 7, True),
        "node_pool_gpu2": ("gpu2", "User", ["2"], 1, 1, 7, True),
        "node_pool_gpu3": ("gpu3", "User", ["3"], 0, 0, 6, True),
    }
    assert {p["vnet_subnet_id"] for p in pools.values()} == {system["vnet_subnet_id"]} == {"${azurerm_subnet.node_subnet.id}"}
    assert {p["node_labels"]["aiops.example/node-pool"] for p in pools.values()} == {"gpu"}
    assert cluster["auto_scaler_profile"] == {"expander": "least-waste", "balance_similar_node_groups": True}
    assert (cluster["oidc_issuer_enabled"], cluster["workload_identity_enabled"]) == (True, True)
    assert cluster["network_profile"] == {"network_plugin": "azure", "network_plugin_mode": "overlay", "network_data_plane": "cilium", "network_policy": "cilium"}


def test_the_serving_pool_is_one_eks_node_group_per_zone(reference_terraform):
    """cluster-autoscaler cannot grow a multi-zone group in a chosen zone; the zone-spread
    inference service needs it to (aiops.model.zonal). Totals stay the pool's: 1/3/11."""
    groups = resources(reference_terraform["aws-primary"], "aws_eks_node_group")
    zonal = {name: g for name, g in groups.items() if name.startswith("node_group_gpu_inference")}
    assert {name: (g["node_group_name"], g["subnet_ids"], g["scaling_config"]) for name, g in zonal.items()} == {
        f"node_group_gpu_inference_us_east_1{z}": (
            f"gpu-inference-us-east-1{z}", [f"${{aws_subnet.private_subnet_us_east_1{z}.id}}"], {"min_size": low, "desired_size": 1, "max_size": high}
        )
        for z, low, high in (("a", 1, 4), ("b", 0, 4), ("c", 0, 3))
    }
    assert {g["labels"]["aiops.example/node-pool"] for g in zonal.values()} == {"gpu-inference"}
    # The groups that may be empty can scale from zero; each names its pool for the autoscaler's template.
    assert asg_tags(reference_terraform["aws-primary"], "node_group_gpu_inference_us_east_1b")["k8s.io/cluster-autoscaler/node-template/label/aiops.example/node-pool"] == ("gpu-inference", False)
    # A node from zero advertises what the time-sliced T4 will: 2 nvidia.com/gpu (replicas-2).
    assert asg_tags(reference_terraform["aws-primary"], "node_group_gpu_inference_us_east_1b")["k8s.io/cluster-autoscaler/node-template/resources/nvidia.com/gpu"] == ("2", False)
    # Pools without a zone-spread workload stay one group over every zone.
    assert len(groups["node_group_gpu_training"]["subnet_ids"]) == 3


def test_gke_cluster_has_no_default_pool_and_pools_carry_their_gpus(reference_terraform):
    template = reference_terraform["gcp-burst"]
    cluster = resources(template, "google_container_cluster")["cluster"]
    assert (cluster["remove_default_node_pool"], cluster["location"], cluster["node_locations"]) == (True, "us-central1", ["us-central1-a", "us-central1-b", "us-central1-c"])
    assert cluster["workload_identity_config"] == {"workload_pool": "aiops-ml-burst.svc.id.goog"}
    assert cluster["private_cluster_config"] == {"enable_private_nodes": True, "enable_private_endpoint": False}
    pools = resources(template, "google_container_node_pool")
    gpu, cpu = pools["node_pool_gpu_t4"], pools["node_pool_cpu_system"]
    assert gpu["node_config"]["guest_accelerator"] == [{"type": "nvidia-tesla-t4", "count": 1, "gpu_driver_installation_config": {"gpu_driver_version": "DEFAULT"}}]
    assert "guest_accelerator" not in cpu["node_config"]
    assert (gpu["autoscaling"], gpu["initial_node_count"]) == ({"total_min_node_count": 0, "total_max_node_count": 16}, 0)
    assert (cpu["autoscaling"], cpu["initial_node_count"]) == ({"total_min_node_count": 1, "total_max_node_count": 3}, 1)
    for node_pool in pools.values():
        assert node_pool["node_config"]["service_account"] == "${google_service_account.node_service_account.email}"
    member = resources(template, "google_project_iam_member")["node_service_account_role"]
    assert (member["role"], member["member"]) == ("roles/container.defaultNodeServiceAccount", "${google_service_account.node_service_account.member}")


# --- Every cloud ----------------------------------------------------------------------------------


@pytest.mark.parametrize("environment", REFERENCE_ENVIRONMENTS)
def test_every_taggable_resource_carries_the_cost_tags(reference_terraform, reference_environments, environment):
    """Environment and cost centre on every resource that takes tags (labels on Google Cloud),
    directly or through the provider's default tags; node pools add their pool."""
    template, model = reference_terraform[environment], reference_environments[environment]
    wanted = {"environment": model.name, "cost-centre": model.cost_centre}
    provider, config = next(iter(template["provider"].items()))
    defaults = {"aws": lambda c: c["default_tags"][0]["tags"], "google": lambda c: c["default_labels"], "azurerm": lambda c: {}}[provider](config[0])
    checked = 0
    for resource_type, by_name in template["resource"].items():
        parameters = binding_parameters(resource_type)
        field = next((f for f in ("tags", "resource_labels", "labels") if f in parameters), None)
        for name, body in by_name.items():
            if field is None:
                continue
            effective = {**defaults, **(body.get(field) or {})}
            assert effective.items() >= wanted.items(), f"{resource_type}.{name}"
            checked += 1
    assert checked >= {"aws-primary": 20, "azure-dr": 4, "gcp-burst": 1}[environment]
    pools = {p.name for p in model.node_pools}
    if model.cloud == "aws":
        pool_tags = [g["tags"] for g in resources(template, "aws_eks_node_group").values()]
    elif model.cloud == "azure":
        pool_tags = [resources(template, "azurerm_kubernetes_cluster")["cluster"]["default_node_pool"]["tags"]]
        pool_tags += [p["tags"] for p in resources(template, "azurerm_kubernetes_cluster_node_pool").values()]
    else:
        pool_tags = [p["node_config"]["resource_labels"] for p in resources(template, "google_container_node_pool").values()]
    assert sorted(set(t["node-pool"] for t in pool_tags)) == sorted(pools)  # per-zone groups carry their pool's tag
    assert all(t.items() >= wanted.items() for t in pool_tags)


@pytest.mark.parametrize("environment", REFERENCE_ENVIRONMENTS)
def test_outputs_for_the_kubernetes_side_and_people(reference_terraform, environment):
    outputs = reference_terraform[environment]["output"]
    assert {"cluster_name", "cluster_endpoint", "oidc_issuer", "node_role"} <= set(outputs)
    assert all(output["description"] for output in outputs.values())
    assert outputs["cluster_name"]["value"].endswith(".cluster.name}")


@pytest.mark.parametrize(
    ("environment", "backend"),
    [
        ("aws-primary", {"s3": {"bucket": "aiops-terraform-state", "key": "aws-primary/eks.tfstate", "region": "us-east-1", "encrypt": True, "use_lockfile": True}}),
        ("azure-dr", {"azurerm": {"resource_group_name": "aiops-terraform-state", "storage_account_name": "aiopstfstate", "container_name": "tfstate", "key": "azure-dr/aks.tfstate"}}),
        ("gcp-burst", {"gcs": {"bucket": "aiops-ml-burst-terraform-state", "prefix": "gcp-burst/gke"}}),
    ],
)
def test_state_is_keyed_by_environment_and_stack(reference_terraform, environment, backend):
    assert reference_terraform[environment]["terraform"]["backend"] == backend


@pytest.mark.parametrize("environment", REFERENCE_ENVIRONMENTS)
def test_logical_ids_are_explicit(reference_terraform, environment):
    """No cdktn hash suffixes: every id was chosen, so a moved construct keeps its resource."""
    template = reference_terraform[environment]
    blocks = [template.get("resource", {}), template.get("data", {})]
    for block in blocks:
        for resource_type, by_name in block.items():
            for name, body in by_name.items():
                assert re.fullmatch(r"[A-Za-z][A-Za-z0-9_]*", name), f"{resource_type}.{name}"
                assert not re.search(r"_[0-9A-F]{8}$", name), f"{resource_type}.{name}"
                assert body["//"]["metadata"]["uniqueId"] == name
    assert json.dumps(template).count("${var.") == 0  # nothing left to pass in by hand
