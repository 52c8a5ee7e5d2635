"""The CDK Terrain constructs one by one: what each builds from its props, and what it refuses.

A construct is the last line of defence: a model built without the loader (or props written by
hand) reaches it unchecked, so it applies the same cloud rules as the model's validators
(aiops.model.cloud_rules) and refuses with the construct's path, the field, the problem and the
fix. The second half of this file shows the same rule reported by both paths.
"""

from __future__ import annotations

import json

import pytest
from cdktn import TerraformStack
from cdktn import Testing as CdktnTesting  # not named Test*, so pytest does not try to collect it
from pydantic import ValidationError

from aiops.model import Environment, NodePool, Taint
from constructs_fixtures import BASE, environment

# Importing the constructs loads all three providers' bindings into jsii (seconds, once per session).
from aiops_constructs.terraform.aks.control_plane import AksControlPlane, AksControlPlaneProps
from aiops_constructs.terraform.aks.node_pool import AksNodePool, AksNodePoolProps
from aiops_constructs.terraform.eks.autoscaling_group_tags import AutoscalingGroupTags, AutoscalingGroupTagsProps, scale_from_zero_tags
from aiops.model.control_plane import ControlPlane
from aiops_constructs.terraform.eks.control_plane import EksControlPlane, EksControlPlaneProps
from aiops_constructs.terraform.eks.cluster_autoscaler_role import ClusterAutoscalerRole, ClusterAutoscalerRoleProps
from aiops_constructs.terraform.eks.network import EksNetwork, EksNetworkProps
from aiops_constructs.terraform.eks.node_group import EksNodeGroup, EksNodeGroupProps
from aiops_constructs.terraform.gke.control_plane import GkeControlPlane, GkeControlPlaneProps
from aiops_constructs.terraform.gke.node_pool import GkeNodePool, GkeNodePoolProps
from aiops_constructs.terraform.gke.node_service_account import GkeNodeServiceAccount, GkeNodeServiceAccountProps
from aiops_constructs.terraform.props import InvalidProps


def synth(build) -> str:
    """Build constructs in a fresh test stack ('unit') and return its Terraform JSON."""
    stack = TerraformStack(CdktnTesting.app(), "unit")
    build(stack)
    return CdktnTesting.synth(stack)


def refusal(build) -> str:
    stack = TerraformStack(CdktnTesting.app(), "unit")
    with pytest.raises(InvalidProps) as caught:
        build(stack)
    return str(caught.value)


def pool(**fields) -> NodePool:
    """A node pool built in code, without the loader's cloud context: no cloud rule has run."""
    return NodePool(**{"name": "gpu", "instance_type": "p3.2xlarge", "min": 0, "desired": 1, "max": 4, **fields})


def eks_node_group(node_pool: NodePool):
    return lambda stack: EksNodeGroup(
        stack, "gpu", props=EksNodeGroupProps(cluster_name="unit", pool=node_pool, subnet_ids=["subnet-a", "subnet-b"], node_role_arn="arn:role", tags={"node-pool": node_pool.name})
    )


def aks_node_pool(node_pool: NodePool, zones=("1", "2")):
    return lambda stack: AksNodePool(
        stack, "gpu", props=AksNodePoolProps(cluster_id="cluster", location="eastus", zones=zones, pool=node_pool, subnet_id="subnet", tags={})
    )


def aks_control_plane(system_pool: NodePool, **fields):
    return lambda stack: AksControlPlane(
        stack,
        "aks",
        props=AksControlPlaneProps(
            cluster_name="unit", location="eastus", resource_group_name="rg", kubernetes_version="1.33", zones=("1",),
            system_pool=system_pool, subnet_id="subnet", tags={}, system_pool_tags={}, log_workspace_id="workspace", **fields,
        ),
    )


def gke_node_pool(node_pool: NodePool, zones=("us-central1-a", "us-central1-b")):
    return lambda stack: GkeNodePool(
        stack, "gpu", props=GkeNodePoolProps(cluster_id="cluster", region="us-central1", zones=zones, pool=node_pool, service_account_email="nodes@x", labels={})
    )


def eks_control_plane(access: ControlPlane):
    def build(stack):
        from cdktn_provider_aws.data_aws_partition import DataAwsPartition

        return EksControlPlane(
            stack,
            "eks",
            props=EksControlPlaneProps(
                cluster_name="unit", kubernetes_version="1.33", subnet_ids=["subnet-a", "subnet-b"], role_arn="arn:role", tags={},
                key_arn="arn:key", partition=DataAwsPartition(stack, "partition"), access=access,
            ),
        )

    return build


T4 = {"type": "nvidia-tesla-t4", "count": 1}
SYSTEM = {"name": "system", "instance_type": "Standard_D4s_v5", "min": 1, "desired": 1, "max": 3, "system": True}

REFUSALS = [
    pytest.param(
        eks_node_group(pool(instance_type="p9.huge")),
        "unit/gpu: pool.instanceType: 'p9.huge' is not an instance type the catalog knows for aws\n"
        "    fix: known aws types: c5.4xlarge, c5a.4xlarge, c6i.4xlarge, g4dn.xlarge, p3.2xlarge, p4d.24xlarge; to use another, "
        "add it with its vCPU, memory, GPUs and prices to catalog/instance_types.yaml",
        id="eks-instance-type-aws-does-not-offer",
    ),
    pytest.param(
        eks_node_group(pool(gpu={"count": 4})),
        "unit/gpu: pool.gpu.count: p3.2xlarge has 1 GPU(s), not 4\n"
        "    fix: set count to 1 or leave the 'gpu' block out (the instance type decides it)",
        id="eks-gpu-count-the-instance-lacks",
    ),
    pytest.param(
        eks_node_group(pool(instance_type="c5.4xlarge", gpu={"count": 1})),
        "unit/gpu: pool.gpu: c5.4xlarge has no GPU\n    fix: remove the 'gpu' block or choose a GPU instance type",
        id="eks-gpu-on-a-cpu-instance",
    ),
    pytest.param(
        lambda stack: EksNetwork(stack, "network", props=EksNetworkProps(cluster_name="unit", region="us-east-1", zones=("us-east-1a", "eu-west-1b"))),
        "unit/network: zones[1]: zone 'eu-west-1b' is not in region us-east-1\n    fix: aws zones of us-east-1 look like 'us-east-1a'",
        id="eks-zone-outside-the-region",
    ),
    pytest.param(
        lambda stack: EksNetwork(stack, "network", props=EksNetworkProps(cluster_name="unit", region="us-east-1", zones=("us-east-1a",))),
        "unit/network: zones: EKS needs subnets in at least two zones\n    fix: list two or more zones",
        id="eks-one-zone",
    ),
    pytest.param(
        aks_node_pool(pool(instance_type="p3.2xlarge", name="gpu")),
        "unit/gpu: pool.instanceType: 'p3.2xlarge' is not an instance type the catalog knows for azure\n"
        "    fix: known azure types: Standard_D4s_v5, Standard_NC4as_T4_v3, Standard_NC6s_v3, Standard_NC8as_T4_v3; to use another, "
        "add it with its vCPU, memory, GPUs and prices to catalog/instance_types.yaml",
        id="aks-instance-type-azure-does-not-offer",
    ),
    pytest.param(
        aks_node_pool(pool(instance_type="Standard_NC6s_v3", name="gpu-pool")),
        "unit/gpu: pool.name: 'gpu-pool' is not a valid node pool name on azure\n"
        "    fix: AKS node pool names: 1 to 12 lowercase letters and digits, starting with a letter (no '-')",
        id="aks-pool-name-with-a-dash",
    ),
    pytest.param(
        aks_node_pool(pool(instance_type="Standard_NC6s_v3"), zones=("1", "4")),
        "unit/gpu: zones[1]: zone '4' is not in region eastus\n    fix: azure zones of eastus look like '1'",
        id="aks-zone-that-does-not-exist",
    ),
    pytest.param(
        aks_control_plane(NodePool(**SYSTEM, taints=[Taint(key="dedicated", value="system", effect="NoSchedule")])),
        "unit/aks: system_pool.taints: the AKS system pool cannot carry taints\n"
        "    fix: remove its taints, or put the tainted nodes in a user pool",
        id="aks-tainted-system-pool",
    ),
    pytest.param(
        aks_control_plane(NodePool(**{**SYSTEM, "min": 0})),
        "unit/aks: system_pool.min: the AKS system pool needs at least one node\n    fix: set min to 1 or more",
        id="aks-empty-system-pool",
    ),
    pytest.param(
        aks_control_plane(NodePool(**{**SYSTEM, "system": False})),
        "unit/aks: system_pool.system: node pool 'system' is not a system pool\n"
        "    fix: mark the pool that becomes the cluster's default pool with 'system: true'",
        id="aks-default-pool-not-marked-system",
    ),
    pytest.param(
        gke_node_pool(pool(instance_type="n1-standard-4", gpu={**T4, "count": 8})),
        "unit/gpu: pool.gpu.count: 8 x nvidia-tesla-t4 is more than one machine takes (4)\n    fix: use at most 4",
        id="gke-more-gpus-than-a-machine-takes",
    ),
    pytest.param(
        gke_node_pool(pool(instance_type="e2-standard-4", gpu=T4)),
        "unit/gpu: pool.gpu.type: nvidia-tesla-t4 cannot attach to e2-standard-4\n    fix: nvidia-tesla-t4 attaches to these machine families: n1",
        id="gke-accelerator-on-the-wrong-machine",
    ),
    pytest.param(
        gke_node_pool(pool(instance_type="n1-standard-4", gpu=T4), zones=("us-central1-a", "us-east1-b")),
        "unit/gpu: zones[1]: zone 'us-east1-b' is not in region us-central1\n    fix: gcp zones of us-central1 look like 'us-central1-a'",
        id="gke-zone-outside-the-region",
    ),
    pytest.param(
        lambda stack: GkeControlPlane(
            stack,
            "gke",
            props=GkeControlPlaneProps(
                cluster_name="unit", project="p", region="us-central1", zones=("us-central1-a", "us-central1-a"), kubernetes_version="1.33",
                network="n", subnetwork="s", pod_range_name="pods", service_range_name="services", labels={}, node_service_account="nodes@x",
            ),
        ),
        "unit/gke: zones[1]: zone 'us-central1-a' is listed twice\n    fix: list each zone once",
        id="gke-zone-listed-twice",
    ),
    pytest.param(
        eks_control_plane(ControlPlane(admins=["platform-admin"])),
        "unit/eks: access.admins[0]: 'platform-admin' is not an admin principal aws takes\n"
        "    fix: write an IAM role or user ARN such as arn:aws:iam::111122223333:role/platform-admin",
        id="eks-admin-not-an-arn",
    ),
    pytest.param(
        aks_control_plane(NodePool(**SYSTEM), access=ControlPlane(admins=["platform-admins"])),
        "unit/aks: access.admins[0]: 'platform-admins' is not an admin principal azure takes\n"
        "    fix: write the object id of an Entra ID group, such as 00000000-0000-0000-0000-000000000000",
        id="aks-admin-not-a-group-id",
    ),
    pytest.param(
        lambda stack: GkeNodeServiceAccount(stack, "nodes", props=GkeNodeServiceAccountProps(project="p", account_id="a-much-too-long-environment-name-nodes")),
        "unit/nodes: account_id: 'a-much-too-long-environment-name-nodes' is not a valid service account id\n"
        "    fix: use 6 to 30 lowercase letters, digits and '-', starting with a letter (a shorter environment name)",
        id="gke-service-account-id-too-long",
    ),
    pytest.param(
        lambda stack: AutoscalingGroupTags(
            stack, "tags", props=AutoscalingGroupTagsProps(autoscaling_group_name="asg", tags={"team.name": "a", "team/name": "b"}, propagate_at_launch=True, logical_id="asg_tag")
        ),
        "unit/tags: tags: 'team.name' and 'team/name' would both become the Terraform id 'asg_tag_team_name'\n"
        "    fix: rename one of them so they differ in more than punctuation",
        id="tags-that-collide-as-terraform-ids",
    ),
    pytest.param(
        lambda stack: ClusterAutoscalerRole(
            stack, "autoscaler", props=ClusterAutoscalerRoleProps(cluster_name="unit", cluster="unit", partition="aws", namespace="Kube_System")
        ),
        "unit/autoscaler: namespace: 'Kube_System' is not a Kubernetes object name\n    fix: use lowercase letters, digits and '-'",
        id="autoscaler-role-bad-namespace",
    ),
]


@pytest.mark.parametrize(("build", "expected"), REFUSALS)
def test_a_construct_refuses_what_its_cloud_cannot_take(build, expected):
    assert refusal(build) == expected


# The same rule, reported by the model (a file, or a model built in code) and by the construct.
# The loader's file:line messages for these rules are pinned in test_environment_errors.py.
SHARED_RULES = [
    pytest.param(
        {"nodePools": [{**BASE["nodePools"][0], "instanceType": "p9.huge"}]},
        ("nodePools", 0, "instanceType"),
        "'p9.huge' is not an instance type the catalog knows for aws",
        eks_node_group(pool(instance_type="p9.huge")),
        "unit/gpu: pool.instanceType",
        id="instance-type",
    ),
    pytest.param(
        {"nodePools": [{**BASE["nodePools"][0], "gpu": {"count": 4}}]},
        ("nodePools", 0, "gpu", "count"),
        "p3.2xlarge has 1 GPU(s), not 4",
        eks_node_group(pool(gpu={"count": 4})),
        "unit/gpu: pool.gpu.count",
        id="gpu-count",
    ),
    pytest.param(
        {"zones": ["us-east-1a", "eu-west-1b"]},
        ("zones", 1),
        "zone 'eu-west-1b' is not in region us-east-1",
        lambda stack: EksNetwork(stack, "network", props=EksNetworkProps(cluster_name="unit", region="us-east-1", zones=("us-east-1a", "eu-west-1b"))),
        "unit/network: zones[1]",
        id="zone",
    ),
    pytest.param(
        {"controlPlane": {"admins": ["platform-admin"]}},
        ("controlPlane", "admins", 0),
        "'platform-admin' is not an admin principal aws takes",
        eks_control_plane(ControlPlane(admins=["platform-admin"])),
        "unit/eks: access.admins[0]",
        id="admin-principal",
    ),
]


@pytest.mark.parametrize(("change", "location", "message", "build", "where"), SHARED_RULES)
def test_model_and_construct_apply_one_rule_with_one_message(change, location, message, build, where):
    """A model validated without the loader's context (as code does) used to skip the cloud
    rules for its pools; now the environment checks them against its own cloud, and the
    construct refuses the same input with the same words."""
    with pytest.raises(ValidationError) as caught:
        Environment.model_validate({**BASE, **change})  # no context
    (error,) = caught.value.errors()
    assert (tuple(error["loc"]) + tuple(error["ctx"]["at"]), error["msg"]) == (location, message)
    assert refusal(build).splitlines()[0] == f"{where}: {message}"


def test_eks_node_group_from_a_pool_built_in_code():
    template = json.loads(synth(eks_node_group(pool(labels={"workload-type": "ml-training"}, taints=[Taint(key="nvidia.com/gpu", effect="NoSchedule")]))))
    group = template["resource"]["aws_eks_node_group"]["node_group_gpu"]
    assert group["scaling_config"] == {"min_size": 0, "desired_size": 1, "max_size": 4}
    assert group["labels"] == {"workload-type": "ml-training", "k8s.amazonaws.com/accelerator": "nvidia-tesla-v100"}
    assert group["taint"] == [{"key": "nvidia.com/gpu", "effect": "NO_SCHEDULE"}]  # no value: none is sent
    assert group["lifecycle"] == {"ignore_changes": ["scaling_config[0].desired_size"]}
    assert group["ami_type"] == "AL2023_x86_64_NVIDIA"
    assert group["disk_size"] == 200  # a GPU pool's default; EKS's own 20 GiB does not hold the NVIDIA AMI and a CUDA image
    cpu = json.loads(synth(eks_node_group(pool(instance_type="c5.4xlarge", disk_size_gib=80))))["resource"]["aws_eks_node_group"]["node_group_gpu"]
    assert cpu["disk_size"] == 80


def test_eks_control_plane_private_by_default_public_only_to_the_cidrs_listed():
    private = json.loads(synth(eks_control_plane(ControlPlane())))["resource"]["aws_eks_cluster"]["cluster"]
    assert private["vpc_config"] | {"subnet_ids": None} == {"subnet_ids": None, "endpoint_private_access": True, "endpoint_public_access": False}
    public = json.loads(synth(eks_control_plane(ControlPlane(endpoint="public", authorized_cidrs=["203.0.113.0/24"]))))["resource"]
    assert public["aws_eks_cluster"]["cluster"]["vpc_config"]["public_access_cidrs"] == ["203.0.113.0/24"]
    assert public["aws_eks_cluster"]["cluster"]["access_config"] == {"authentication_mode": "API", "bootstrap_cluster_creator_admin_permissions": False}
    assert public["aws_eks_cluster"]["cluster"]["encryption_config"] == {"provider": {"key_arn": "arn:key"}, "resources": ["secrets"]}
    assert public["aws_eks_cluster"]["cluster"]["enabled_cluster_log_types"] == ["api", "audit", "authenticator", "controllerManager", "scheduler"]
    assert "aws_eks_access_entry" not in public  # nobody is admin unless listed
    anyone = json.loads(synth(eks_control_plane(ControlPlane(endpoint="public", open_to_internet=True))))["resource"]["aws_eks_cluster"]["cluster"]
    assert anyone["vpc_config"]["public_access_cidrs"] == ["0.0.0.0/0"]  # written explicitly, as the file asked


def test_scale_from_zero_tags_spell_taints_the_kubernetes_way():
    tags = scale_from_zero_tags({"a": "1"}, [Taint(key="nvidia.com/gpu", value="true", effect="NoSchedule"), Taint(key="spot", effect="PreferNoSchedule")], 2)
    # Only node-template tags: the discovery tags are EKS's own (see autoscaling_group_tags.py).
    assert tags == {
        "k8s.io/cluster-autoscaler/node-template/label/a": "1",
        "k8s.io/cluster-autoscaler/node-template/taint/nvidia.com/gpu": "true:NoSchedule",
        "k8s.io/cluster-autoscaler/node-template/taint/spot": ":PreferNoSchedule",
        "k8s.io/cluster-autoscaler/node-template/resources/nvidia.com/gpu": "2",
    }
    assert "k8s.io/cluster-autoscaler/node-template/resources/nvidia.com/gpu" not in scale_from_zero_tags({}, [], 0)


def test_autoscaling_group_tags_with_cdktn_testing_helpers():
    template = synth(
        lambda stack: AutoscalingGroupTags(
            stack, "tags", props=AutoscalingGroupTagsProps(autoscaling_group_name="asg-1", tags={"node-pool": "gpu"}, propagate_at_launch=True, logical_id="asg_tag_gpu")
        )
    )
    assert CdktnTesting.to_have_resource_with_properties(
        template, "aws_autoscaling_group_tag", {"autoscaling_group_name": "asg-1", "tag": {"key": "node-pool", "value": "gpu", "propagate_at_launch": True}}
    )
    assert not CdktnTesting.to_have_resource_with_properties(template, "aws_autoscaling_group_tag", {"tag": {"propagate_at_launch": False}})


def test_gke_starts_a_regional_pool_with_enough_nodes_per_zone():
    template = json.loads(synth(gke_node_pool(pool(instance_type="n1-standard-4", gpu=T4, min=0, desired=5, max=8), zones=("us-central1-a", "us-central1-b"))))
    node_pool = template["resource"]["google_container_node_pool"]["node_pool_gpu"]
    assert node_pool["initial_node_count"] == 3  # per zone: 2 zones x 3 >= 5
    assert node_pool["autoscaling"] == {"total_min_node_count": 0, "total_max_node_count": 8}
    assert node_pool["lifecycle"] == {"ignore_changes": ["initial_node_count"]}


def test_the_environment_constructs_refuse_another_cloud():
    from aiops_constructs.terraform.eks.cluster import EksCluster

    gcp = environment(cloud="gcp", region="us-central1", zones=["us-central1-a"], gcpProject="p", terraformState={"bucket": "b"},
                      nodePools=[{"name": "cpu", "instanceType": "e2-standard-4", "min": 1, "desired": 1, "max": 2}])
    assert refusal(lambda stack: EksCluster(stack, "eks", environment=gcp)) == (
        "unit/eks: environment.cloud: environment 'unit' is on gcp, not aws\n    fix: build an EKS cluster from an aws environment"
    )


def test_aks_control_plane_private_by_default_and_the_free_tier_when_it_does_not_serve():
    cluster = json.loads(synth(aks_control_plane(NodePool(**SYSTEM))))["resource"]["azurerm_kubernetes_cluster"]["cluster"]
    assert (cluster["private_cluster_enabled"], "api_server_access_profile" in cluster, cluster["sku_tier"]) == (True, False, "Free")
    assert cluster["local_account_disabled"] is True
    assert cluster["azure_active_directory_role_based_access_control"] == {"azure_rbac_enabled": True}
    serving = aks_control_plane(NodePool(**SYSTEM), serves=True, access=ControlPlane(endpoint="public", authorized_cidrs=["203.0.113.0/24"]))
    cluster = json.loads(synth(serving))["resource"]["azurerm_kubernetes_cluster"]["cluster"]
    assert (cluster["private_cluster_enabled"], cluster["api_server_access_profile"], cluster["sku_tier"]) == (False, {"authorized_ip_ranges": ["203.0.113.0/24"]}, "Standard")
    anyone = aks_control_plane(NodePool(**SYSTEM), access=ControlPlane(endpoint="public", open_to_internet=True))
    cluster = json.loads(synth(anyone))["resource"]["azurerm_kubernetes_cluster"]["cluster"]
    assert (cluster["private_cluster_enabled"], "api_server_access_profile" in cluster) == (False, False)  # AKS's spelling of every address


def test_gke_control_plane_private_by_default():
    def build(access):
        return lambda stack: GkeControlPlane(
            stack,
            "gke",
            props=GkeControlPlaneProps(
                cluster_name="unit", project="p", region="us-central1", zones=("us-central1-a",), kubernetes_version="1.33",
                network="n", subnetwork="s", pod_range_name="pods", service_range_name="services", labels={}, node_service_account="nodes@x", access=access,
            ),
        )

    private = json.loads(synth(build(ControlPlane())))["resource"]["google_container_cluster"]["cluster"]
    assert private["private_cluster_config"] == {"enable_private_nodes": True, "enable_private_endpoint": True}
    assert private["master_authorized_networks_config"] == {"gcp_public_cidrs_access_enabled": False}
    public = json.loads(synth(build(ControlPlane(endpoint="public", authorized_cidrs=["203.0.113.0/24"], admins=["group:ops@example.org"]))))["resource"]
    assert public["google_container_cluster"]["cluster"]["master_authorized_networks_config"]["cidr_blocks"] == [{"cidr_block": "203.0.113.0/24", "display_name": "authorized-0"}]
    assert public["google_project_iam_member"]["admin_0"] == {**public["google_project_iam_member"]["admin_0"], "role": "roles/container.admin", "member": "group:ops@example.org"}


def test_the_load_balancer_controller_role_refuses_a_name_iam_cannot_hold():
    from aiops_constructs.terraform.eks.load_balancer_controller_role import LoadBalancerControllerRole, LoadBalancerControllerRoleProps

    def build(stack):
        agent = ClusterAutoscalerRole(stack, "autoscaler", props=ClusterAutoscalerRoleProps(cluster_name="unit", cluster="unit", partition="aws")).pod_identity_agent
        LoadBalancerControllerRole(stack, "lbc", props=LoadBalancerControllerRoleProps(cluster_name="x" * 40, cluster="unit", partition="aws", pod_identity_agent=agent))

    assert refusal(build) == (
        f"unit/lbc: cluster_name: the role name '{'x' * 40}-load-balancer-controller' is longer than IAM's 64 characters\n"
        "    fix: use a shorter environment name"
    )


def test_the_failover_pair_refuses_the_client_name_as_the_standbys_endpoint():
    from aiops_constructs.terraform.traffic.failover_dns import FailoverDns, FailoverDnsProps

    props = FailoverDnsProps("ml.example.org", "models.ml.example.org", "a", "b", "models.ml.example.org", "/ready")
    assert refusal(lambda stack: FailoverDns(stack, "model-server", props=props)) == (
        "unit/model-server: standby_endpoint: the standby's endpoint is the client name itself\n    fix: give the standby's load balancer name"
    )
