"""An environment on AWS: network, roles, EKS control plane, node groups and autoscaling tags."""

from __future__ import annotations

from cdktn import TerraformOutput
from cdktn_provider_aws.data_aws_partition import DataAwsPartition
from cdktn_provider_aws.provider import AwsProvider, AwsProviderDefaultTags
from constructs import Construct

from aiops.model import Environment, NodePool
from aiops.model.zonal import zonal_pools, zone_groups
from aiops_constructs.terraform.eks.autoscaling_group_tags import AutoscalingGroupTags, AutoscalingGroupTagsProps, scale_from_zero_tags
from aiops_constructs.terraform.eks.cluster_autoscaler_role import ClusterAutoscalerRole, ClusterAutoscalerRoleProps
from aiops_constructs.terraform.eks.control_plane import EksControlPlane, EksControlPlaneProps
from aiops_constructs.terraform.eks.ebs_csi_driver import EbsCsiDriver, EbsCsiDriverProps
from aiops_constructs.terraform.eks.encryption import EksEncryptionKey, EksEncryptionKeyProps
from aiops_constructs.terraform.eks.flow_logs import EksFlowLogs, EksFlowLogsProps
from aiops_constructs.terraform.eks.load_balancer_controller_role import LoadBalancerControllerRole, LoadBalancerControllerRoleProps
from aiops_constructs.terraform.eks.network import EksNetwork, EksNetworkProps
from aiops_constructs.terraform.eks.node_group import EksNodeGroup, EksNodeGroupProps
from aiops_constructs.terraform.eks.roles import CLUSTER_POLICIES, CLUSTER_TRUST_ACTIONS, NODE_POLICIES, ServiceRole, ServiceRoleProps
from aiops_constructs.terraform.props import InvalidProps, terraform_id
from aiops_constructs.terraform.tags import environment_tags, pool_tags


def output(scope: Construct, name: str, value: str, description: str) -> None:
    TerraformOutput(scope, name, value=value, description=description).override_logical_id(name)


class EksCluster(Construct):
    """Everything one EKS environment needs, from the model.

    Every AWS resource gets the environment's cost tags through the provider's `default_tags`;
    node groups add their pool, and their autoscaling groups get all three, propagated to the
    instances (see autoscaling_group_tags.py).
    """

    def __init__(self, scope: Construct, id: str, *, environment: Environment) -> None:
        super().__init__(scope, id)
        if environment.cloud != "aws":
            raise InvalidProps(self, "environment.cloud", f"environment '{environment.name}' is on {environment.cloud}, not aws", "build an EKS cluster from an aws environment")
        name = environment.name
        AwsProvider(self, "aws", region=environment.region, default_tags=[AwsProviderDefaultTags(tags=environment_tags(environment))])
        partition = DataAwsPartition(self, "partition")
        partition.override_logical_id("current")

        self.network = EksNetwork(self, "network", props=EksNetworkProps(cluster_name=name, region=environment.region, zones=tuple(environment.zones)))
        cluster_role = ServiceRole(
            self, "cluster-role", props=ServiceRoleProps(role_name=f"{name}-cluster", service="eks", managed_policies=CLUSTER_POLICIES, partition=partition, logical_id="cluster_role", trust_actions=CLUSTER_TRUST_ACTIONS)
        )
        node_role = ServiceRole(
            self, "node-role", props=ServiceRoleProps(role_name=f"{name}-node", service="ec2", managed_policies=NODE_POLICIES, partition=partition, logical_id="node_role")
        )
        key = EksEncryptionKey(
            self, "encryption-key", props=EksEncryptionKeyProps(cluster_name=name, cluster_role_name=cluster_role.role.name, partition=partition, tags=environment_tags(environment))
        )
        EksFlowLogs(self, "flow-logs", props=EksFlowLogsProps(cluster_name=name, vpc_id=self.network.vpc.id, key_arn=key.key.arn, partition=partition, tags=environment_tags(environment)))
        self.control_plane = EksControlPlane(
            self,
            "control-plane",
            props=EksControlPlaneProps(
                cluster_name=name,
                kubernetes_version=environment.kubernetes_version,
                subnet_ids=self.network.private_subnet_ids,
                role_arn=cluster_role.role.arn,
                tags=environment_tags(environment),
                key_arn=key.key.arn,
                partition=partition,
                access=environment.control_plane,
                depends_on=[*cluster_role.attachments, key.usage],
            ),
        )
        cluster = self.control_plane.cluster
        self.node_groups: dict[str, EksNodeGroup] = {}
        zonal = zonal_pools(environment)
        for pool in environment.node_pools:
            # A pool of zone-spread workloads becomes one group per zone (aiops.model.zonal), each
            # in that zone's private subnet; every other pool is one group over all of them.
            if pool.name in zonal:
                subnets = dict(zip(environment.zones, self.network.private_subnet_ids, strict=True))
                groups = [(group.pool, [subnets[group.zone]]) for group in zone_groups(environment, pool)]
            else:
                groups = [(pool, self.network.private_subnet_ids)]
            for member, subnet_ids in groups:
                self.node_groups[member.name] = self._node_group(environment, pool, member, subnet_ids, node_role)
        autoscaler = ClusterAutoscalerRole(
            self,
            "cluster-autoscaler-role",
            props=ClusterAutoscalerRoleProps(cluster_name=name, cluster=cluster.name, partition=partition.partition),
        )
        EbsCsiDriver(
            self,
            "ebs-csi-driver",
            props=EbsCsiDriverProps(
                cluster_name=name,
                cluster=cluster.name,
                partition=partition,
                # The add-on's controller needs nodes to run on before EKS reports it active.
                depends_on=[autoscaler.pod_identity_agent, *(g.group for g in self.node_groups.values())],
            ),
        )

        serving = environment.workloads.inference
        load_balancer_controller = None
        if serving is not None and serving.port is not None:  # the serving Ingress's controller (k8s/load_balancer_controller.py)
            load_balancer_controller = LoadBalancerControllerRole(
                self,
                "load-balancer-controller-role",
                props=LoadBalancerControllerRoleProps(cluster_name=name, cluster=cluster.name, partition=partition.partition,
                                                      pod_identity_agent=autoscaler.pod_identity_agent),
            )

        output(self, "cluster_name", cluster.name, "EKS cluster name")
        output(self, "cluster_endpoint", cluster.endpoint, "Kubernetes API server URL")
        output(self, "oidc_issuer", self.control_plane.oidc_issuer, "OIDC issuer of service-account tokens (IAM roles for service accounts)")
        output(self, "node_role", node_role.role.arn, "IAM role ARN of the nodes")
        output(self, "cluster_autoscaler_role", autoscaler.role.arn, "IAM role ARN of cluster-autoscaler (bound to its service account with EKS Pod Identity)")
        if load_balancer_controller is not None:
            output(self, "load_balancer_controller_role", load_balancer_controller.role.arn,
                   "IAM role ARN of the AWS Load Balancer Controller (bound to its service account with EKS Pod Identity)")

    def _node_group(self, environment: Environment, pool: NodePool, member: NodePool, subnet_ids: list[str], node_role: ServiceRole) -> EksNodeGroup:
        """One node group for `member` (the pool itself, or its share in one zone), with its autoscaling group's tags."""
        group = EksNodeGroup(
            self,
            f"node-group-{member.name}",
            props=EksNodeGroupProps(
                cluster_name=self.control_plane.cluster.name,
                pool=member,
                subnet_ids=subnet_ids,
                node_role_arn=node_role.role.arn,
                tags=pool_tags(environment, pool),
                depends_on=list(node_role.attachments),
            ),
        )
        AutoscalingGroupTags(
            group,
            "cost-tags",
            props=AutoscalingGroupTagsProps(
                autoscaling_group_name=group.autoscaling_group_name,
                tags=pool_tags(environment, pool),
                propagate_at_launch=True,
                logical_id=terraform_id("asg_tag", member.name, "cost"),
            ),
        )
        # A failover standby's pools keep them in both switch positions: `state: active` raises a
        # zone's min from 0, and dropping the tags then (re-creating them on failback) would be a
        # destroy in the switch's plan for nothing (they only matter while the group is empty).
        if member.min == 0 or environment.failover is not None:
            AutoscalingGroupTags(
                group,
                "scale-from-zero-tags",
                props=AutoscalingGroupTagsProps(
                    autoscaling_group_name=group.autoscaling_group_name,
                    tags=scale_from_zero_tags(group.node_labels, member.taints, member.advertised("aws").per_node(group.gpus_per_node),
                                              member.advertised("aws").resource),
                    propagate_at_launch=False,
                    logical_id=terraform_id("asg_tag", member.name, "autoscaler"),
                ),
            )
        return group
