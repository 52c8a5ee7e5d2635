"""How a workload's pods run: the parts of their security context an environment may choose.

Everything Pod Security's `restricted` level requires is fixed (not root, no privilege
escalation, every capability dropped, the runtime's seccomp profile); what an environment may
choose is which non-root user the image runs as, and, explicitly, a writable root filesystem
for an image that cannot run without one (the level allows it, Checkov does not).
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, StringConstraints, model_validator

from aiops.model.base import StrictModel, error

AbsolutePath = Annotated[str, StringConstraints(pattern=r"^/[^\s:]*$")]
# The namespace levels of Pod Security admission a team may ask for; privileged is for node agents only.
TeamPodSecurityLevel = Literal["restricted", "baseline"]


class PodSecurity(StrictModel):
    """The user a workload's containers run as and which of their paths are writable.

    `runAsNonRoot`, `allowPrivilegeEscalation: false`, `capabilities.drop: [ALL]` and
    `seccompProfile: RuntimeDefault` are always set and cannot be turned off here.
    """

    run_as_user: int = Field(default=10001, ge=0, description="The container user (UID); never 0. The default is a high UID that no node user has.")
    run_as_group: int = Field(default=10001, ge=0, description="The primary group (GID); also the group of the pod's volumes (fsGroup).")
    read_only_root_filesystem: bool = Field(
        default=True,
        description="The image's files cannot be changed at run time; set false only for an image that cannot run without writing to them.",
    )
    writable_paths: list[AbsolutePath] = Field(
        default=["/tmp"], description="Paths that get a writable emptyDir each (scratch space; with a read-only root filesystem the only writable places)."
    )

    @model_validator(mode="after")
    def _paths(self) -> PodSecurity:
        if self.run_as_user == 0:
            raise error("root", "runAsUser 0 is root, which Pod Security's restricted level refuses and the platform never runs", at=("runAsUser",),
                        hint="use the image's own non-root user (its UID), or leave runAsUser out for 10001")
        for index, path in enumerate(self.writable_paths):
            if path == "/" or path.rstrip("/") != path:
                raise error("writable_path", f"'{path}' is not a directory path like /tmp", at=("writablePaths", index), hint="write an absolute path without a trailing /")
            if path == "/dev/shm":
                raise error("writable_path", "/dev/shm is mounted by the platform (an in-memory emptyDir) where a workload needs it", at=("writablePaths", index),
                            hint="remove it from writablePaths")
            if self.writable_paths.index(path) != index:
                raise error("writable_path", f"'{path}' is listed twice", at=("writablePaths", index), hint="list each path once")
        return self


# The Ray images (rayproject/ray) run as their user `ray`, UID 1000 in group users (GID 100),
# whose home holds Ray's own files; another UID would have no home and no name.
RAY_POD_SECURITY = PodSecurity(run_as_user=1000, run_as_group=100)
