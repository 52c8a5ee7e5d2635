"""Which Terraform attribute changes destroy and re-create what we generate: one table, with sources.

Terraform replaces a resource (destroys it and creates a new one) when an attribute its
provider marks `ForceNew` changes. For node pools and clusters that means every node, and for
a cluster the control plane, goes away. Some providers instead update in place but re-create
every node (AKS "cycles" the pool through a temporary one; EKS and GKE roll the nodes), which a
reviewer must know too. This module is the only place that knows which attribute does what;
`aiops diff` looks each changed resource up here.

The table covers the node pool, cluster and resource group types our stacks generate, and the
traffic stacks' Route 53 health checks and records, Traffic Manager profiles, endpoints and CNAMEs, and Cloud DNS record sets, health checks, addresses and certificates, read from the providers' schemas; for other types (networks, roles, ...) `aiops diff` says it cannot tell
an update from a replacement. Provider versions we pin: aws 6.69.1, azurerm 5.10.0,
google 8.7.0 (dist/*/terraform/*/cdk.tf.json). When a pin moves, re-read the sources below
and update the rows; `tests/test_review_replacement.py` pins the rows our reference stacks hit.

Attribute paths are dotted paths in the Terraform JSON, through nested blocks whether cdktn
writes them as an object or as a list of objects (`node_config.guest_accelerator`).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Any

REPLACE = "replace"  # Terraform destroys the resource and creates a new one
RECREATES_NODES = "recreates-nodes"  # updated in place, but every node of the pool is replaced


@dataclass(frozen=True)
class Source:
    cite: str


AWS_NODE_GROUP = Source(
    "hashicorp/terraform-provider-aws internal/service/eks/node_group.go, schema (ForceNew), commit 012e0a32f068"
)
AWS_NODE_GROUP_UPDATE = Source(
    "EKS User Guide, 'Update a managed node group': a version or launch template update replaces the nodes"
    " in a rolling update that drains them (terraform-provider-aws node_group.go, UpdateNodegroupVersion)"
)
AWS_CLUSTER = Source("hashicorp/terraform-provider-aws internal/service/eks/cluster.go, schema (ForceNew), commit 00555dc5b38f")
AZURE_NODE_POOL = Source(
    "hashicorp/terraform-provider-azurerm internal/services/containers/kubernetes_cluster_node_pool_resource.go,"
    " schema (ForceNew) and update (cycleNodePoolProperties), commit 028a6fd9c051"
)
AZURE_CLUSTER = Source(
    "hashicorp/terraform-provider-azurerm internal/services/containers/kubernetes_cluster_resource.go, schema (ForceNew),"
    " CustomizeDiff (ForceNewIf default_node_pool.0.name) and the default pool's temporary_name_for_rotation cycle,"
    " commit 00378cfc2806"
)
AZURE_RESOURCE_GROUP = Source("hashicorp/go-azure-helpers commonschema.ResourceGroupName() and Location(): both ForceNew")
GOOGLE_NODE_POOL = Source(
    "hashicorp/terraform-provider-google google/services/container/resource_container_node_pool.go (schemaNodePool)"
    " and node_config.go (schemaNodeConfig), ForceNew, commits 069a33d4f5ec and 00b984c69873"
)
GOOGLE_NODE_POOL_UPDATE = Source(
    "terraform-provider-google node_config.go: machine_type, disk_size_gb, disk_type, image_type are not ForceNew;"
    " GKE applies them by re-creating the pool's nodes with its upgrade strategy (GKE docs, 'Add and manage node pools')"
)
GOOGLE_CLUSTER = Source(
    "hashicorp/terraform-provider-google google/services/container/resource_container_cluster.go, schema (ForceNew"
    " name, location; deletion_protection defaults to true and makes any delete fail), commit 0297605c6001"
)
GOOGLE_CLUSTER_NETWORK = Source(
    "hashicorp/terraform-provider-google google/services/container/resource_container_cluster.go, schema (ForceNew"
    " datapath_provider), read 2026-12-01 (the commit of the google 8.7.0 pin not re-read)"
)
AWS_ROUTE53_HEALTH_CHECK = Source(
    "hashicorp/terraform-provider-aws internal/service/route53/health_check.go, schema (ForceNew type, request_interval,"
    " measure_latency, reference_name, routing_control_arn), commit 01606926a0c0 (read 2026-12-02, not the 6.69.1 tag)"
)
AWS_ROUTE53_RECORD = Source(
    "hashicorp/terraform-provider-aws internal/service/route53/record.go, schema (ForceNew name, zone_id),"
    " commit 00655c1681ea (read 2026-12-02, not the 6.69.1 tag)"
)
# A primary on Azure's traffic stack (terraform/traffic/traffic_manager.py). Read from the newest
# azurerm source in this project's mirror, not the 5.10.0 tag (not in it): re-read on a pin move.
AZURE_TRAFFIC_MANAGER_SOURCE = "commit 69697b7fe6a9 (v5.2.0+, read 2026-12-02, not the 5.10.0 tag)"
AZURE_TRAFFIC_MANAGER_PROFILE = Source(
    "hashicorp/terraform-provider-azurerm internal/services/trafficmanager/traffic_manager_profile_resource.go, schema (ForceNew"
    f" name, dns_config.relative_name; resource_group_name is commonschema's, ForceNew), {AZURE_TRAFFIC_MANAGER_SOURCE}"
)
AZURE_TRAFFIC_MANAGER_ENDPOINT = Source(
    "hashicorp/terraform-provider-azurerm internal/services/trafficmanager/traffic_manager_external_endpoint_resource.go, schema"
    f" (ForceNew name, profile_id, subnet; priority, enabled, target update in place), {AZURE_TRAFFIC_MANAGER_SOURCE}"
)
AZURE_DNS_CNAME = Source(
    "hashicorp/terraform-provider-azurerm internal/services/dns/dns_cname_record_resource.go, schema (ForceNew name, zone_name,"
    f" resource_group_name), {AZURE_TRAFFIC_MANAGER_SOURCE}"
)
# A primary on Google Cloud's traffic stack (terraform/traffic/cloud_dns.py), read likewise from
# the newest google source in the mirror, not the 8.7.0 tag.
GOOGLE_TRAFFIC_SOURCE = "commit e03b7622a2 (read 2026-12-02, not the 8.7.0 tag)"
GOOGLE_DNS_RECORD_SET = Source(
    "hashicorp/terraform-provider-google google/services/dns/resource_dns_record_set.go, schema (ForceNew name, managed_zone,"
    f" project, routing_policy.health_check; trickle_ratio updates in place), {GOOGLE_TRAFFIC_SOURCE}"
)
GOOGLE_HEALTH_CHECK = Source(f"hashicorp/terraform-provider-google google/services/compute/resource_compute_health_check.go, schema (ForceNew name, project), {GOOGLE_TRAFFIC_SOURCE}")
GOOGLE_GLOBAL_ADDRESS = Source(
    "hashicorp/terraform-provider-google google/services/compute/resource_compute_global_address.go, schema (ForceNew name, address,"
    f" address_type, description, ip_version, network, prefix_length, purpose, project), {GOOGLE_TRAFFIC_SOURCE}"
)
GOOGLE_MANAGED_CERTIFICATE = Source(
    "hashicorp/terraform-provider-google google/services/compute/resource_compute_managed_ssl_certificate.go, schema (ForceNew"
    f" description, managed.domains, name, type, project), {GOOGLE_TRAFFIC_SOURCE}"
)


@dataclass(frozen=True)
class Rule:
    resource_type: str
    attribute: str
    effect: str
    source: Source
    requires: str | None = None  # an attribute without which the in-place update fails instead


def _rules(resource_type: str, effect: str, source: Source, attributes: str, requires: str | None = None) -> tuple[Rule, ...]:
    return tuple(Rule(resource_type, attribute, effect, source, requires) for attribute in attributes.split())


_AKS_CYCLED = (
    "fips_enabled host_encryption_enabled kubelet_config kubelet_disk_type linux_os_config max_pods"
    " node_public_ip_enabled os_disk_size_gb os_disk_type pod_subnet_id snapshot_id ultra_ssd_enabled"
    " vm_size vnet_subnet_id zones"
)

# The table. One row per (resource type, attribute): what a change of that attribute does.
RULES: tuple[Rule, ...] = (
    *_rules("aws_eks_node_group", REPLACE, AWS_NODE_GROUP,
            "ami_type capacity_type cluster_name disk_size instance_types launch_template.id launch_template.name"
            " node_group_name node_group_name_prefix node_role_arn remote_access subnet_ids"),
    *_rules("aws_eks_node_group", RECREATES_NODES, AWS_NODE_GROUP_UPDATE, "version release_version launch_template.version"),
    *_rules("aws_eks_cluster", REPLACE, AWS_CLUSTER,
            "name role_arn bootstrap_self_managed_addons access_config.bootstrap_cluster_creator_admin_permissions"
            " kubernetes_network_config.ip_family kubernetes_network_config.service_ipv4_cidr"
            " outpost_config.control_plane_instance_type outpost_config.control_plane_placement remote_network_config"),
    *_rules("azurerm_kubernetes_cluster_node_pool", REPLACE, AZURE_NODE_POOL,
            "name kubernetes_cluster_id os_type priority eviction_policy spot_max_price host_group_id"
            " capacity_reservation_group_id gpu_instance gpu_driver node_public_ip_prefix_id"
            " proximity_placement_group_id windows_profile"),
    *_rules("azurerm_kubernetes_cluster_node_pool", RECREATES_NODES, AZURE_NODE_POOL, _AKS_CYCLED,
            requires="temporary_name_for_rotation"),
    *_rules("azurerm_kubernetes_cluster", REPLACE, AZURE_CLUSTER,
            "name location resource_group_name dns_prefix dns_prefix_private_cluster disk_encryption_set_id edge_zone"
            " default_node_pool.name"),
    *_rules("azurerm_kubernetes_cluster", RECREATES_NODES, AZURE_CLUSTER,
            " ".join(f"default_node_pool.{a}" for a in _AKS_CYCLED.split()),
            requires="default_node_pool.temporary_name_for_rotation"),
    *_rules("azurerm_resource_group", REPLACE, AZURE_RESOURCE_GROUP, "name location"),
    *_rules("google_container_node_pool", REPLACE, GOOGLE_NODE_POOL,
            "name name_prefix cluster location project initial_node_count max_pods_per_node placement_policy"
            " queued_provisioning network_config.create_pod_range network_config.pod_range"
            " network_config.pod_ipv4_cidr_block network_config.subnetwork node_config.guest_accelerator"
            " node_config.local_ssd_count node_config.metadata node_config.min_cpu_platform node_config.oauth_scopes"
            " node_config.preemptible node_config.spot node_config.service_account node_config.shielded_instance_config"
            " node_config.reservation_affinity node_config.gvnic node_config.gcfs_config node_config.secondary_boot_disks"
            " node_config.ephemeral_storage_local_ssd_config node_config.local_nvme_ssd_block_config"),
    *_rules("google_container_node_pool", RECREATES_NODES, GOOGLE_NODE_POOL_UPDATE,
            "node_config.machine_type node_config.disk_size_gb node_config.disk_type node_config.image_type version"),
    *_rules("google_container_cluster", REPLACE, GOOGLE_CLUSTER, "name location project networking_mode"),
    *_rules("google_container_cluster", REPLACE, GOOGLE_CLUSTER_NETWORK, "datapath_provider"),
    # The traffic stack's: a failover or failback changes child_health_threshold, which updates in place.
    *_rules("aws_route53_health_check", REPLACE, AWS_ROUTE53_HEALTH_CHECK, "type request_interval measure_latency reference_name routing_control_arn"),
    *_rules("aws_route53_record", REPLACE, AWS_ROUTE53_RECORD, "name zone_id"),
    # A primary on Azure's: a failover or failback changes the primary endpoint's priority, in place.
    *_rules("azurerm_traffic_manager_profile", REPLACE, AZURE_TRAFFIC_MANAGER_PROFILE, "name resource_group_name dns_config.relative_name"),
    *_rules("azurerm_traffic_manager_external_endpoint", REPLACE, AZURE_TRAFFIC_MANAGER_ENDPOINT, "name profile_id subnet"),
    *_rules("azurerm_dns_cname_record", REPLACE, AZURE_DNS_CNAME, "name zone_name resource_group_name"),
    # A primary on Google Cloud's: a failover or failback changes the record's trickle_ratio, in place.
    *_rules("google_dns_record_set", REPLACE, GOOGLE_DNS_RECORD_SET, "name managed_zone project routing_policy.health_check"),
    *_rules("google_compute_health_check", REPLACE, GOOGLE_HEALTH_CHECK, "name project"),
    *_rules("google_compute_global_address", REPLACE, GOOGLE_GLOBAL_ADDRESS,
            "name address address_type description ip_version network prefix_length purpose project"),
    *_rules("google_compute_managed_ssl_certificate", REPLACE, GOOGLE_MANAGED_CERTIFICATE, "description managed.domains name type project"),
)

# Resources whose provider refuses to delete them while an attribute is set: (attribute, default).
DELETION_GUARDS: dict[str, tuple[str, bool]] = {
    "google_container_cluster": ("deletion_protection", True),
}

ABSENT = object()


def lookup(value: Any, attribute: str) -> Any:
    """The value at a dotted path; through lists of blocks it collects each block's value."""
    for index, part in enumerate(attribute.split(".")):
        if isinstance(value, list):
            rest = ".".join(attribute.split(".")[index:])
            return [lookup(item, rest) for item in value]
        if not isinstance(value, dict) or part not in value:
            return ABSENT
        value = value[part]
    return value


@dataclass(frozen=True)
class RuleHit:
    rule: Rule
    old: Any
    new: Any
    missing_requirement: bool  # the in-place update needs `rule.requires`, which is not set: apply fails

    @property
    def attribute(self) -> str:
        return self.rule.attribute


def rule_hits(resource_type: str, old: dict, new: dict) -> list[RuleHit]:
    """The table's rows that a change of this resource from `old` to `new` triggers."""
    hits = []
    for rule in RULES:
        if rule.resource_type != resource_type:
            continue
        before, after = lookup(old, rule.attribute), lookup(new, rule.attribute)
        if before != after:
            missing = rule.requires is not None and lookup(new, rule.requires) in (ABSENT, None, "")
            hits.append(RuleHit(rule, None if before is ABSENT else before, None if after is ABSENT else after, missing))
    return hits


def deletion_blocked(resource_type: str, body: dict) -> str | None:
    """Why Terraform will refuse to delete this resource as written, or None."""
    guard = DELETION_GUARDS.get(resource_type)
    if guard is None:
        return None
    attribute, default = guard
    value = lookup(body, attribute)
    if (default if value is ABSENT else value) is True:
        return f"{attribute} is true, so terraform apply fails instead of deleting it; set it to false first, in its own change"
    return None


@cache
def known_types() -> frozenset[str]:
    """The resource types this table covers; for others `aiops diff` cannot tell an update from a replacement."""
    return frozenset(rule.resource_type for rule in RULES)
