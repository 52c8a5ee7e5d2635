"""The Google service account the nodes run as, with only the role GKE needs for them.

Without it, nodes would run as the project's Compute Engine default service account, which
usually holds the Editor role on the whole project.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from cdktn_provider_google.project_iam_member import ProjectIamMember
from cdktn_provider_google.service_account import ServiceAccount
from constructs import Construct

from aiops_constructs.terraform.props import InvalidProps

# GKE documentation, "Configure GKE node service accounts": the minimum role of a node service account.
NODE_ROLE = "roles/container.defaultNodeServiceAccount"
_ACCOUNT_ID = re.compile(r"^[a-z](?:[-a-z0-9]{4,28}[a-z0-9])$")  # the IAM API's rule


@dataclass(frozen=True)
class GkeNodeServiceAccountProps:
    project: str
    account_id: str  # the part of the e-mail address before '@'


class GkeNodeServiceAccount(Construct):
    def __init__(self, scope: Construct, id: str, *, props: GkeNodeServiceAccountProps) -> None:
        super().__init__(scope, id)
        if not _ACCOUNT_ID.match(props.account_id):
            raise InvalidProps(
                self,
                "account_id",
                f"'{props.account_id}' is not a valid service account id",
                "use 6 to 30 lowercase letters, digits and '-', starting with a letter (a shorter environment name)",
            )
        self.account = ServiceAccount(self, "account", project=props.project, account_id=props.account_id, display_name="GKE nodes")
        self.account.override_logical_id("node_service_account")
        ProjectIamMember(self, "node-role", project=props.project, role=NODE_ROLE, member=self.account.member).override_logical_id("node_service_account_role")
