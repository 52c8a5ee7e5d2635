"""Where every generated file lives in dist/. The one place that knows the layout.

    dist/<environment>/
      cluster/                        what `flux bootstrap --path` points at
        flux-system/gotk-sync.yaml    GitRepository + the Kustomization that syncs this folder
        flux-system/...               flux bootstrap's own files (gotk-components.yaml, its
                                      kustomization.yaml), kept by synth
        infrastructure.yaml           Kustomizations: infra-controllers -> infra-configs
        apps.yaml                     Kustomization: apps (depends on infra-configs)
      infrastructure/controllers/     HelmRepositories and HelmReleases (operators, CRDs)
      infrastructure/configs/         cluster-wide custom resources that need those CRDs
      apps/                           the ML workloads
      terraform/<stack>/cdk.tf.json   Terraform JSON of the cloud side, one folder per stack

Every Kubernetes folder carries a kustomization.yaml listing its files, so `kustomize build`
and Flux read exactly the same set. Flux paths are relative to the repository root, where
`dist/` is committed; they never depend on the folder a synth ran in.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import PurePosixPath

DIST = "dist"  # the committed folder Flux reconciles from git
KUSTOMIZATION_FILE = "kustomization.yaml"
TERRAFORM_FILE = "cdk.tf.json"
TERRAFORM_VERSIONS_FILE = "versions.tf"  # beside each stack's JSON: its required Terraform version


@dataclass(frozen=True)
class EnvironmentLayout:
    environment: str

    @property
    def root(self) -> PurePosixPath:
        return PurePosixPath(self.environment)

    @property
    def cluster(self) -> PurePosixPath:
        return self.root / "cluster"

    @property
    def flux_system(self) -> PurePosixPath:
        return self.cluster / "flux-system"

    @property
    def infrastructure_controllers(self) -> PurePosixPath:
        return self.root / "infrastructure" / "controllers"

    @property
    def infrastructure_configs(self) -> PurePosixPath:
        return self.root / "infrastructure" / "configs"

    @property
    def apps(self) -> PurePosixPath:
        return self.root / "apps"

    def terraform_stack(self, stack: str) -> PurePosixPath:
        return self.root / "terraform" / stack

    def kustomize_folders(self) -> dict[PurePosixPath, tuple[PurePosixPath, ...]]:
        """Each folder that gets a kustomization.yaml from synth, with the sub-folders it includes.

        flux-system/ is not one: `flux bootstrap` writes its kustomization.yaml there only when
        the folder has none (flux2 pkg/manifestgen/kustomization), so synth lists the folder's
        files from cluster/kustomization.yaml until bootstrap has written its own.
        """
        return {
            self.cluster: (self.flux_system,),
            self.infrastructure_controllers: (),
            self.infrastructure_configs: (),
            self.apps: (),
        }

    def flux_layers(self) -> dict[str, PurePosixPath]:
        """The folders a user's own manifests can go to, by their name under manifests/<env>/."""
        return {
            "cluster": self.cluster,
            "infrastructure/controllers": self.infrastructure_controllers,
            "infrastructure/configs": self.infrastructure_configs,
            "apps": self.apps,
        }

    @staticmethod
    def flux_path(folder: PurePosixPath) -> str:
        """A dist folder as a Flux Kustomization `spec.path` (relative to the repository root)."""
        return f"./{DIST}/{folder}"
