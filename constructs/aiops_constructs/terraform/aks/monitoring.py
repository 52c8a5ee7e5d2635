"""Where an AKS cluster's logs go: a Log Analytics workspace for Container insights (the
`oms_agent` add-on) and the control plane's audit, API server and Entra ID sign-in logs."""

from __future__ import annotations

from dataclasses import dataclass

from cdktn_provider_azurerm.log_analytics_workspace import LogAnalyticsWorkspace
from cdktn_provider_azurerm.monitor_diagnostic_setting import MonitorDiagnosticSetting, MonitorDiagnosticSettingEnabledLog
from constructs import Construct

# The control-plane log categories kept, in the order of EKS's audit/api/authenticator:
# kube-audit-admin (every write through the API, without the volume of reads), kube-apiserver,
# guard (Entra ID and Azure RBAC decisions); cluster-autoscaler tells why a GPU pool grew or not.
LOG_CATEGORIES = ("kube-audit-admin", "kube-apiserver", "guard", "cluster-autoscaler")
RETENTION_DAYS = 365  # a year, as on EKS


@dataclass(frozen=True)
class AksLogWorkspaceProps:
    name: str  # prefix of the Azure resource names
    location: str
    resource_group_name: str
    tags: dict[str, str]


class AksLogWorkspace(Construct):
    """`azurerm_log_analytics_workspace` that only Entra ID identities can write to or read."""

    def __init__(self, scope: Construct, id: str, *, props: AksLogWorkspaceProps) -> None:
        super().__init__(scope, id)
        self.workspace = LogAnalyticsWorkspace(
            self,
            "workspace",
            name=f"{props.name}-logs",
            location=props.location,
            resource_group_name=props.resource_group_name,
            sku="PerGB2018",
            retention_in_days=RETENTION_DAYS,
            local_authentication_enabled=False,  # no shared keys: the agent signs in with its managed identity
            tags=props.tags,
        )
        self.workspace.override_logical_id("log_workspace")


def control_plane_logs(scope: Construct, *, cluster_id: str, workspace_id: str) -> MonitorDiagnosticSetting:
    """`azurerm_monitor_diagnostic_setting` sending the cluster's control-plane logs to the workspace."""
    setting = MonitorDiagnosticSetting(
        scope,
        "control-plane-logs",
        name="control-plane-logs",
        target_resource_id=cluster_id,
        log_analytics_workspace_id=workspace_id,
        log_analytics_destination_type="Dedicated",
        enabled_log=[MonitorDiagnosticSettingEnabledLog(category=category) for category in LOG_CATEGORIES],
    )
    setting.override_logical_id("control_plane_logs")
    return setting
