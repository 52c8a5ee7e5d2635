"""The traffic stack of a primary environment: `dist/<primary>/terraform/traffic/`.

Its own stack (and state, in the primary's backend) rather than part of the EKS or AKS stack: a
failover or a failback changes only this stack's plan (one health check's threshold on AWS, one
Traffic Manager endpoint's priority on Azure), never the cluster's; and a cluster stack being replaced or unreachable does not
hold up moving the clients.
"""

from __future__ import annotations

from collections.abc import Sequence

from cdktn import TerraformStack
from constructs import Construct

from aiops.failover import TrafficPair
from aiops.model import Environment
from aiops_constructs.terraform.props import InvalidProps
from aiops_constructs.terraform.remote_backend import add_remote_backend

STACK_NAME = "traffic"


# The global traffic policy of a primary on each cloud (the README's Failover section says why).
MECHANISMS = {"aws": "Route 53 failover records", "azure": "an Azure Traffic Manager profile", "gcp": "a Cloud DNS failover routing policy"}


class TrafficStack(TerraformStack):
    """The failover pair of one primary: Route 53 failover records (a primary on AWS), a Traffic
    Manager profile (on Azure) or a Cloud DNS failover routing policy (on Google Cloud), for the
    one standby that takes its traffic."""

    def __init__(self, scope: Construct, id: str, *, environment: Environment, pairs: Sequence[TrafficPair]) -> None:
        super().__init__(scope, id)
        self.stack_name = STACK_NAME
        if environment.cloud not in MECHANISMS:
            raise InvalidProps(self, "environment.cloud", f"no traffic policy is built for a primary on {environment.cloud} ('{environment.name}')",
                               f"give the traffic stack a primary on {', '.join(MECHANISMS)}")
        if len(pairs) != 1:
            raise InvalidProps(self, "pairs", f"{len(pairs)} failover pairs for one primary; its failover name has one primary and one standby endpoint",
                               "give one standby the traffic of each primary")
        for index, pair in enumerate(pairs):
            if pair.primary != environment.name:
                raise InvalidProps(self, f"pairs[{index}].primary", f"the pair's primary is '{pair.primary}', not '{environment.name}'", "build a primary's stack from its own pairs")
        add_remote_backend(self, environment, STACK_NAME)
        if environment.cloud == "azure":
            self._traffic_manager(environment, pairs)
            return
        if environment.cloud == "gcp":
            self._cloud_dns(environment, pairs)
            return
        # Imported only now: the AWS bindings take seconds to load.
        from cdktn_provider_aws.provider import AwsProvider, AwsProviderDefaultTags

        from aiops_constructs.terraform.tags import environment_tags
        from aiops_constructs.terraform.traffic.failover_dns import FailoverDns, FailoverDnsProps

        # Route 53 is global; the provider's region only places its API calls.
        AwsProvider(self, "aws", region=environment.region, default_tags=[AwsProviderDefaultTags(tags=environment_tags(environment))])
        for pair in pairs:
            FailoverDns(self, pair.workload, props=FailoverDnsProps.of(pair))

    def _traffic_manager(self, environment: Environment, pairs: Sequence[TrafficPair]) -> None:
        from cdktn_provider_azurerm.provider import AzurermProvider, AzurermProviderFeatures

        from aiops_constructs.terraform.tags import environment_tags
        from aiops_constructs.terraform.traffic.traffic_manager import TrafficManagerFailover, TrafficManagerProps

        # Traffic Manager is global; the subscription comes from the environment (ARM_SUBSCRIPTION_ID), as for the AKS stack.
        AzurermProvider(self, "azurerm", features=[AzurermProviderFeatures()])
        for pair in pairs:
            TrafficManagerFailover(self, pair.workload, props=TrafficManagerProps.of(pair, environment.region, environment_tags(environment)))

    def _cloud_dns(self, environment: Environment, pairs: Sequence[TrafficPair]) -> None:
        from cdktn_provider_google.provider import GoogleProvider

        from aiops_constructs.terraform.tags import environment_tags
        from aiops_constructs.terraform.traffic.cloud_dns import CloudDnsFailover, CloudDnsProps

        provider = GoogleProvider(self, "google", project=environment.gcp_project, region=environment.region)
        provider.add_override("default_labels", environment_tags(environment))  # as the GKE stack (gke/cluster.py)
        for pair in pairs:
            CloudDnsFailover(self, pair.workload, props=CloudDnsProps.of(pair, environment.region))
