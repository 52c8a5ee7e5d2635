"""What the hardened control planes of the reference stacks mean (issue 14's cloud side, issue
13's cloud-side details), read from the session's one real synthesis: who can reach each API
server, who administers it, what is encrypted and logged, which policy engine enforces
NetworkPolicy, node disks, labels, and the Terraform version the stacks need."""

from __future__ import annotations

import json

from conftest import REFERENCE_ENVIRONMENTS


def resources(template: dict, resource_type: str) -> dict[str, dict]:
    return template["resource"].get(resource_type, {})


# --- who can reach the API server ---------------------------------------------------------------


def test_each_api_server_accepts_exactly_the_networks_its_environment_lists(reference_terraform, reference_environments):
    cidrs = {name: reference_environments[name].control_plane.authorized_cidrs for name in REFERENCE_ENVIRONMENTS}
    assert all(cidrs.values()) and all(reference_environments[name].control_plane.public for name in REFERENCE_ENVIRONMENTS)
    eks = resources(reference_terraform["aws-primary"], "aws_eks_cluster")["cluster"]["vpc_config"]
    assert (eks["endpoint_private_access"], eks["endpoint_public_access"], eks["public_access_cidrs"]) == (True, True, cidrs["aws-primary"])
    aks = resources(reference_terraform["azure-dr"], "azurerm_kubernetes_cluster")["cluster"]
    assert (aks["private_cluster_enabled"], aks["api_server_access_profile"]) == (False, {"authorized_ip_ranges": cidrs["azure-dr"]})
    gke = resources(reference_terraform["gcp-burst"], "google_container_cluster")["cluster"]
    assert gke["private_cluster_config"] == {"enable_private_nodes": True, "enable_private_endpoint": False}
    assert gke["master_authorized_networks_config"]["gcp_public_cidrs_access_enabled"] is False
    assert [block["cidr_block"] for block in gke["master_authorized_networks_config"]["cidr_blocks"]] == cidrs["gcp-burst"]


def test_no_reference_api_server_is_open_to_every_address(reference_terraform):
    text = json.dumps(reference_terraform)
    for every in ('"0.0.0.0/0"', '"::/0"'):
        # Only routes out (NAT) and the GKE deny rule name every address.
        users = {(t, n) for env in reference_terraform.values() for t, rs in env["resource"].items() for n, r in rs.items() if every in json.dumps(r)}
        assert users <= {("aws_route", n) for _, n in users} | {("google_compute_firewall", "deny_internet_ingress")}, users
    assert text.count("public_access_cidrs") == 1


# --- who administers it ---------------------------------------------------------------------------


def test_admins_come_from_the_environment_not_from_whoever_applies_the_stack(reference_terraform, reference_environments):
    aws = reference_terraform["aws-primary"]
    assert resources(aws, "aws_eks_cluster")["cluster"]["access_config"] == {"authentication_mode": "API", "bootstrap_cluster_creator_admin_permissions": False}
    (admin,) = reference_environments["aws-primary"].control_plane.admins
    assert [e["principal_arn"] for e in resources(aws, "aws_eks_access_entry").values()] == [admin]
    (association,) = resources(aws, "aws_eks_access_policy_association").values()
    assert association["policy_arn"].endswith(":eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy")
    assert (association["principal_arn"], association["access_scope"]) == (admin, {"type": "cluster"})
    aks = resources(reference_terraform["azure-dr"], "azurerm_kubernetes_cluster")["cluster"]
    assert aks["local_account_disabled"] is True
    assert aks["azure_active_directory_role_based_access_control"] == {
        "azure_rbac_enabled": True, "admin_group_object_ids": reference_environments["azure-dr"].control_plane.admins
    }
    gke = reference_terraform["gcp-burst"]
    assert [(m["role"], m["member"]) for n, m in resources(gke, "google_project_iam_member").items() if n.startswith("admin")] == [
        ("roles/container.admin", reference_environments["gcp-burst"].control_plane.admins[0])
    ]
    cluster = resources(gke, "google_container_cluster")["cluster"]
    assert cluster["master_auth"] == {"client_certificate_config": {"issue_client_certificate": False}}


# --- encryption and logs --------------------------------------------------------------------------


def test_eks_secrets_and_logs_are_encrypted_with_a_rotated_key_the_cluster_may_use(reference_terraform):
    aws = reference_terraform["aws-primary"]
    cluster = resources(aws, "aws_eks_cluster")["cluster"]
    assert cluster["encryption_config"] == {"provider": {"key_arn": "${aws_kms_key.cluster_key.arn}"}, "resources": ["secrets"]}
    assert cluster["enabled_cluster_log_types"] == ["api", "audit", "authenticator", "controllerManager", "scheduler"]
    key = resources(aws, "aws_kms_key")["cluster_key"]
    assert (key["enable_key_rotation"], key["deletion_window_in_days"]) == (True, 30)
    policy = json.loads(key["policy"])
    logs = next(s for s in policy["Statement"] if s["Sid"] == "ClusterLogGroups")
    assert logs["Condition"]["ArnEquals"]["kms:EncryptionContext:aws:logs:arn"] == [
        "arn:${data.aws_partition.current.partition}:logs:${data.aws_region.current.region}:${data.aws_caller_identity.current.account_id}:log-group:/aws/eks/aws-primary/cluster",
        "arn:${data.aws_partition.current.partition}:logs:${data.aws_region.current.region}:${data.aws_caller_identity.current.account_id}:log-group:/aws/vpc/aws-primary/flow-logs",
    ]
    groups = resources(aws, "aws_cloudwatch_log_group")
    assert {g["name"]: (g["retention_in_days"], g["kms_key_id"]) for g in groups.values()} == {
        "/aws/eks/aws-primary/cluster": (365, "${aws_kms_key.cluster_key.arn}"),
        "/aws/vpc/aws-primary/flow-logs": (365, "${aws_kms_key.cluster_key.arn}"),
    }
    assert "aws_cloudwatch_log_group.cluster_logs" in cluster["depends_on"]  # EKS must not create its own, unencrypted and kept forever
    assert "aws_iam_role_policy.cluster_role_key" in cluster["depends_on"]
    usage = aws["data"]["aws_iam_policy_document"]["cluster_key_usage"]["statement"]
    assert usage == [{"sid": "EnvelopeEncryption", "effect": "Allow", "actions": ["kms:Encrypt", "kms:Decrypt", "kms:ListGrants", "kms:DescribeKey"], "resources": ["${aws_kms_key.cluster_key.arn}"]}]
    (flow_log,) = resources(aws, "aws_flow_log").values()
    assert (flow_log["vpc_id"], flow_log["traffic_type"]) == ("${aws_vpc.vpc.id}", "ALL")
    assert resources(aws, "aws_default_security_group")["default"] == {**resources(aws, "aws_default_security_group")["default"], "vpc_id": "${aws_vpc.vpc.id}"}
    assert "ingress" not in resources(aws, "aws_default_security_group")["default"]


def test_aks_sends_audit_logs_and_container_insights_to_its_workspace(reference_terraform):
    azure = reference_terraform["azure-dr"]
    cluster = resources(azure, "azurerm_kubernetes_cluster")["cluster"]
    assert cluster["oms_agent"] == {"log_analytics_workspace_id": "${azurerm_log_analytics_workspace.log_workspace.id}", "msi_auth_for_monitoring_enabled": True}
    setting = resources(azure, "azurerm_monitor_diagnostic_setting")["control_plane_logs"]
    assert setting["target_resource_id"] == "${azurerm_kubernetes_cluster.cluster.id}"
    assert [log["category"] for log in setting["enabled_log"]] == ["kube-audit-admin", "kube-apiserver", "guard", "cluster-autoscaler"]
    workspace = resources(azure, "azurerm_log_analytics_workspace")["log_workspace"]
    assert (workspace["retention_in_days"], workspace["local_authentication_enabled"]) == (365, False)
    # azure-dr serves inference: the control plane with an SLA.
    assert cluster["sku_tier"] == "Standard"
    assert (cluster["automatic_upgrade_channel"], cluster["node_os_upgrade_channel"], cluster["azure_policy_enabled"]) == ("patch", "NodeImage", True)


# --- network policy engines -----------------------------------------------------------------------


def test_every_cloud_runs_an_engine_that_enforces_network_policy(reference_terraform):
    cni = resources(reference_terraform["aws-primary"], "aws_eks_addon")["vpc_cni"]
    assert (cni["addon_name"], json.loads(cni["configuration_values"])) == ("vpc-cni", {"enableNetworkPolicy": "true"})
    profile = resources(reference_terraform["azure-dr"], "azurerm_kubernetes_cluster")["cluster"]["network_profile"]
    assert (profile["network_data_plane"], profile["network_policy"]) == ("cilium", "cilium")
    gke = resources(reference_terraform["gcp-burst"], "google_container_cluster")["cluster"]
    # Dataplane V2 enforces NetworkPolicy itself; GKE wants the Calico add-on off beside it.
    assert (gke["datapath_provider"], gke["network_policy"]) == ("ADVANCED_DATAPATH", {"enabled": False})


# --- GKE nodes, release channel and labels ----------------------------------------------------------


def test_gke_nodes_boot_securely_on_an_explicit_channel(reference_terraform):
    gke = reference_terraform["gcp-burst"]
    cluster = resources(gke, "google_container_cluster")["cluster"]
    assert (cluster["release_channel"], cluster["enable_shielded_nodes"]) == ({"channel": "REGULAR"}, True)
    shielded = {"enable_secure_boot": True, "enable_integrity_monitoring": True}
    assert cluster["node_config"]["shielded_instance_config"] == shielded  # the short-lived default pool too
    for pool in resources(gke, "google_container_node_pool").values():
        assert pool["node_config"]["shielded_instance_config"] == shielded


def test_gke_labels_are_spelled_once_as_written(reference_terraform):
    """cdktn used to snake-case the provider's default_labels: every resource got cost_centre and cost-centre."""
    gke = reference_terraform["gcp-burst"]
    assert gke["provider"]["google"][0]["default_labels"] == {"environment": "gcp-burst", "cost-centre": "ml-platform", "managed-by": "aiops-gitops"}
    assert "cost_centre" not in json.dumps(gke)


# --- node disks and the Terraform version -------------------------------------------------------------


def test_gpu_pools_get_gpu_sized_disks_on_every_cloud(reference_terraform):
    eks = {g["node_group_name"]: g["disk_size"] for g in resources(reference_terraform["aws-primary"], "aws_eks_node_group").values()}
    assert eks == {"gpu-training": 200, "cpu-compute": 50, **{f"gpu-inference-us-east-1{z}": 200 for z in "abc"}}
    azure = reference_terraform["azure-dr"]
    assert resources(azure, "azurerm_kubernetes_cluster")["cluster"]["default_node_pool"]["os_disk_size_gb"] == 50
    assert resources(azure, "azurerm_kubernetes_cluster_node_pool")["node_pool_gpu1"]["os_disk_size_gb"] == 200
    gke = {p["name"]: p["node_config"]["disk_size_gb"] for p in resources(reference_terraform["gcp-burst"], "google_container_node_pool").values()}
    assert gke == {"cpu-system": 50, "gpu-t4": 200}


def test_every_stack_states_the_terraform_it_needs(reference_synthesis):
    versions = {path: data for path, data in reference_synthesis.files.items() if path.name == "versions.tf"}
    stacks = {path.parent for path in reference_synthesis.files if path.name == "cdk.tf.json"}
    assert {path.parent for path in versions} == stacks and len(stacks) == 3
    for data in versions.values():
        assert 'required_version = ">= 1.10"' in data.decode()
