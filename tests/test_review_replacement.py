"""The replacement table reaches the attributes our Terraform stacks really write."""

from __future__ import annotations

import pytest

from aiops.review.replacement import ABSENT, RECREATES_NODES, REPLACE, RULES, deletion_blocked, lookup, rule_hits

# (resource type, attribute, effect) for every attribute our stacks write that the table must know.
WRITTEN = [
    ("aws_eks_node_group", "instance_types", REPLACE),
    ("aws_eks_node_group", "ami_type", REPLACE),
    ("aws_eks_node_group", "node_group_name", REPLACE),
    ("aws_eks_node_group", "subnet_ids", REPLACE),
    ("aws_eks_node_group", "node_role_arn", REPLACE),
    ("aws_eks_node_group", "cluster_name", REPLACE),
    ("aws_eks_cluster", "name", REPLACE),
    ("aws_eks_cluster", "role_arn", REPLACE),
    ("azurerm_resource_group", "name", REPLACE),
    ("azurerm_resource_group", "location", REPLACE),
    ("azurerm_kubernetes_cluster", "name", REPLACE),
    ("azurerm_kubernetes_cluster", "location", REPLACE),
    ("azurerm_kubernetes_cluster", "dns_prefix", REPLACE),
    ("azurerm_kubernetes_cluster", "default_node_pool.name", REPLACE),
    ("azurerm_kubernetes_cluster", "default_node_pool.vm_size", RECREATES_NODES),
    ("azurerm_kubernetes_cluster", "default_node_pool.zones", RECREATES_NODES),
    ("azurerm_kubernetes_cluster_node_pool", "name", REPLACE),
    ("azurerm_kubernetes_cluster_node_pool", "kubernetes_cluster_id", REPLACE),
    ("azurerm_kubernetes_cluster_node_pool", "vm_size", RECREATES_NODES),
    ("azurerm_kubernetes_cluster_node_pool", "zones", RECREATES_NODES),
    ("google_container_cluster", "name", REPLACE),
    ("google_container_cluster", "location", REPLACE),
    ("google_container_cluster", "datapath_provider", REPLACE),  # Dataplane V2 is chosen when a cluster is created
    ("aws_eks_cluster", "access_config.bootstrap_cluster_creator_admin_permissions", REPLACE),  # create-only in the EKS API
    ("google_container_node_pool", "node_config.shielded_instance_config", REPLACE),
    ("aws_eks_node_group", "disk_size", REPLACE),
    ("google_container_node_pool", "name", REPLACE),
    ("google_container_node_pool", "cluster", REPLACE),
    ("google_container_node_pool", "location", REPLACE),
    ("google_container_node_pool", "initial_node_count", REPLACE),
    ("google_container_node_pool", "node_config.guest_accelerator", REPLACE),
    ("google_container_node_pool", "node_config.machine_type", RECREATES_NODES),
]


def _resources(reference_terraform):
    for document in reference_terraform.values():
        for resource_type, by_name in document["resource"].items():
            for name, body in by_name.items():
                yield resource_type, name, body


@pytest.mark.parametrize(("resource_type", "attribute", "effect"), WRITTEN)
def test_the_table_knows_each_attribute_our_stacks_write(reference_terraform, resource_type, attribute, effect):
    [rule] = [r for r in RULES if (r.resource_type, r.attribute) == (resource_type, attribute)]
    assert rule.effect == effect
    bodies = [body for t, _, body in _resources(reference_terraform) if t == resource_type]
    assert bodies, f"no {resource_type} in the reference stacks"
    assert any(lookup(body, attribute) is not ABSENT for body in bodies), f"{resource_type} writes no {attribute}"


def test_every_row_is_unique_and_cites_a_source():
    keys = [(r.resource_type, r.attribute) for r in RULES]
    assert len(keys) == len(set(keys))
    assert all(r.source.cite and r.effect in (REPLACE, RECREATES_NODES) for r in RULES)


def test_lookup_goes_through_blocks_written_as_objects_or_lists():
    body = {"node_config": {"guest_accelerator": [{"type": "t4", "count": 1}]}, "scaling_config": [{"max_size": 3}]}
    assert lookup(body, "node_config.guest_accelerator") == [{"type": "t4", "count": 1}]
    assert lookup(body, "scaling_config.max_size") == [3]
    assert lookup(body, "launch_template.id") is ABSENT


def test_unchanged_resources_hit_no_row_and_unknown_types_none(reference_terraform):
    for resource_type, _, body in _resources(reference_terraform):
        assert rule_hits(resource_type, body, body) == []
    assert rule_hits("aws_s3_bucket", {"bucket": "a"}, {"bucket": "b"}) == []


def test_deletion_protection_defaults_to_on(reference_terraform):
    [cluster] = [b for t, _, b in _resources(reference_terraform) if t == "google_container_cluster"]
    assert deletion_blocked("google_container_cluster", cluster) is not None
    assert deletion_blocked("google_container_cluster", {"name": "x"}) is not None  # unset means true
    assert deletion_blocked("google_container_cluster", {"deletion_protection": False}) is None
    assert deletion_blocked("aws_eks_cluster", {"name": "x"}) is None
