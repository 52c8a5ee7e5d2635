"""Your own constructs, synthesized into dist/ with the platform's and validated like them.

Write a construct (anything cdk8s can synthesize: ApiObjects, imported CRD classes, your own
Construct subclasses) as a function of the environment, and register it here:

    from cdk8s import ApiObject, JsonPatch

    def team_settings(scope, environment):
        settings = ApiObject(scope, "settings", api_version="v1", kind="ConfigMap",
                             metadata={"name": "team-settings", "namespace": "ml-training"})
        settings.add_json_patch(JsonPatch.add("/data", {"region": environment.region}))

    USER_CONSTRUCTS.append(UserConstruct("team-settings", "apps", team_settings, environments=("aws-primary",)))

`aiops synth` then writes `dist/aws-primary/apps/team-settings.yaml` (with the generated-file
header) and lists it in that folder's kustomization.yaml; `environments=None` puts it in every
environment (shared). Like every construct, it reads only its props (the typed Environment),
never files or the clock. For plain YAML, `manifests/<env>/<layer>/` is simpler (README, "Your
own manifests and constructs").
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

LAYERS = ("cluster", "infrastructure/controllers", "infrastructure/configs", "apps")
_NAME = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")


@dataclass(frozen=True)
class UserConstruct:
    name: str  # the file: dist/<env>/<layer>/<name>.yaml
    layer: str  # one of LAYERS: the Flux Kustomization that applies it
    build: Callable  # build(scope: constructs.Construct, environment: aiops.model.Environment) -> None
    environments: tuple[str, ...] | None = None  # None: every environment

    def __post_init__(self) -> None:
        if not _NAME.match(self.name):
            raise ValueError(f"UserConstruct name {self.name!r}: use lowercase letters, digits and '-' (it names the file)")
        if self.layer not in LAYERS:
            raise ValueError(f"UserConstruct {self.name!r}: layer {self.layer!r} is not one of {', '.join(LAYERS)}")

    def applies_to(self, environment: str) -> bool:
        return self.environments is None or environment in self.environments


# Register your constructs here (see the module docstring).
USER_CONSTRUCTS: list[UserConstruct] = []
