"""The foundation's cdk8s constructs: a snapshot of what each builds, and the error of bad props."""

from __future__ import annotations


import pytest
import cdk8s

from aiops.model import NodePool
from aiops_constructs.k8s.flux_sync import FluxKustomizations, GitSync, SyncedFolder
from aiops_constructs.k8s.node_pool_flavors import NodePoolFlavors
from constructs_fixtures import BASE, environment, render as _render


def test_node_pool_flavors_snapshot(snapshot):
    snapshot.assert_match(_render(lambda chart: NodePoolFlavors(chart, "flavors", environment=environment())), "node_pool_flavors.json")


def test_node_pool_flavors_refuse_a_pool_without_labels():
    pools = [dict(BASE["nodePools"][0], labels={}), BASE["nodePools"][1]]
    with pytest.raises(ValueError) as caught:
        NodePoolFlavors(cdk8s.Testing.chart(), "flavors", environment=environment(nodePools=pools))
    assert str(caught.value) == (
        "unit: node pool 'gpu' has no labels; a ResourceFlavor needs at least one node label to select the pool's nodes"
    )


def test_git_sync_snapshot(snapshot):
    env = environment()
    snapshot.assert_match(_render(lambda chart: GitSync(chart, "sync", git=env.git, cluster_path="./dist/unit/cluster")), "git_sync.json")


def test_flux_kustomizations_snapshot(snapshot):
    folders = [
        SyncedFolder(name="infra-controllers", path="./dist/unit/infrastructure/controllers"),
        SyncedFolder(name="infra-configs", path="./dist/unit/infrastructure/configs", depends_on=("infra-controllers",)),
    ]
    snapshot.assert_match(_render(lambda chart: FluxKustomizations(chart, "k", folders=folders)), "flux_kustomizations.json")


def test_flux_kustomizations_refuse_an_unknown_dependency():
    with pytest.raises(ValueError) as caught:
        FluxKustomizations(cdk8s.Testing.chart(), "k", folders=[SyncedFolder(name="apps", path="./x", depends_on=("infra",))])
    assert str(caught.value) == "Kustomization 'apps' depends on unknown Kustomization(s): infra"


@pytest.mark.parametrize("cloud", ["aws", "azure", "gcp"])
def test_serving_ingress_snapshot(snapshot, cloud):
    from aiops_constructs.k8s.serving_ingress import ServingIngress, ServingIngressProps

    props = ServingIngressProps(cloud=cloud, name="model-server", namespace="ml-serving", port=8000, health_path="/v2/health/ready",
                                source_cidr="10.0.0.0/16" if cloud == "aws" else None)
    snapshot.assert_match(_render(lambda chart: ServingIngress(chart, "ingress", props=props)), f"serving_ingress_{cloud}.json")


def test_serving_ingress_on_eks_needs_the_vpc():
    from aiops_constructs.k8s.serving_ingress import ServingIngress, ServingIngressProps

    props = ServingIngressProps(cloud="aws", name="model-server", namespace="ml-serving", port=8000, health_path="/ready")
    with pytest.raises(ValueError) as caught:
        ServingIngress(cdk8s.Testing.chart(), "ingress", props=props)
    assert str(caught.value) == "ServingIngress 'model-server': on EKS the ALB sends from the VPC's addresses; give source_cidr (the VPC's CIDR)"


@pytest.mark.parametrize("cloud", ["aws", "azure"])
def test_serving_ingress_with_tls_snapshot(snapshot, cloud):
    from aiops_constructs.k8s.serving_ingress import ServingIngress, ServingIngressProps

    props = ServingIngressProps(cloud=cloud, name="model-server", namespace="ml-serving", port=8000, health_path="/v2/health/ready",
                                source_cidr="10.0.0.0/16" if cloud == "aws" else None, tls_host="models.ml.example.org",
                                key_vault_certificate="https://dr-serving.vault.azure.net/certificates/model-server-tls" if cloud == "azure" else None)
    snapshot.assert_match(_render(lambda chart: ServingIngress(chart, "ingress", props=props)), f"serving_ingress_tls_{cloud}.json")


@pytest.mark.parametrize(("cloud", "tls_host", "certificate", "message"), [
    ("gcp", "models.ml.example.org", None, "on GKE give tls_host with gke_certificate and gke_address (the primary's traffic stack makes both)"),
    ("azure", "models.ml.example.org", None,
     "on AKS give tls_host and key_vault_certificate together (the add-on serves the Key Vault certificate for that host)"),
    ("azure", "models.ml.example.org", "https://dr.vault.azure.net/secrets/x",
     "key_vault_certificate must be a Key Vault certificate URI like https://<vault>.vault.azure.net/certificates/<name>, "
     "got 'https://dr.vault.azure.net/secrets/x'"),
])
def test_serving_ingress_refuses_tls_it_cannot_serve(cloud, tls_host, certificate, message):
    from aiops_constructs.k8s.serving_ingress import ServingIngress, ServingIngressProps

    props = ServingIngressProps(cloud=cloud, name="model-server", namespace="ml-serving", port=8000, health_path="/ready",
                                tls_host=tls_host, key_vault_certificate=certificate)
    with pytest.raises(ValueError) as caught:
        ServingIngress(cdk8s.Testing.chart(), "ingress", props=props)
    assert str(caught.value) == f"ServingIngress 'model-server': {message}"


def test_load_balancer_controller_snapshot(snapshot):
    from aiops_constructs.k8s.load_balancer_controller import LoadBalancerController

    snapshot.assert_match(_render(lambda chart: LoadBalancerController(chart, "lbc", cluster_name="unit", region="us-east-1", vpc_name="unit")),
                          "load_balancer_controller.json")


def test_load_balancer_controller_refuses_a_region_that_is_not_aws():
    from aiops_constructs.k8s.load_balancer_controller import LoadBalancerController

    with pytest.raises(ValueError) as caught:
        LoadBalancerController(cdk8s.Testing.chart(), "lbc", cluster_name="unit", region="eastus", vpc_name="unit")
    assert str(caught.value) == "LoadBalancerController: region 'eastus' is not an AWS region like us-east-1"


def test_the_key_vault_names_follow_azures_rules():
    from aiops_constructs.serving_tls import key_vault_certificate_uri, key_vault_name

    assert key_vault_certificate_uri("azure-dr", "model-server") == "https://azure-dr-serving.vault.azure.net/certificates/model-server-tls"
    with pytest.raises(ValueError) as caught:
        key_vault_name("a-very-long-environment")
    assert str(caught.value) == ("the Key Vault name 'a-very-long-environment-serving' is not 3-24 letters, digits and single '-'; "
                                 "use an environment name of at most 16 characters")
