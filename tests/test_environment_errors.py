"""Bad environment files: each mistake gets its own message, with file, line and column."""

from __future__ import annotations

from pathlib import Path

import pytest

from aiops.model import InvalidEnvironment, load_environment
from conftest import REPO, aiops, copy_project

VALID = """\
name: demo
cloud: aws
region: us-east-1
zones: [us-east-1a, us-east-1b]
kubernetesVersion: "1.33"
costCentre: ml-platform
git:
  url: https://github.com/example-org/aiops-gitops.git
terraformState:
  bucket: state
  region: us-east-1
nodePools:
  - name: gpu-training
    instanceType: p3.2xlarge
    min: 0
    desired: 2
    max: 10
    labels:
      workload-type: ml-training
    taints:
      - key: nvidia.com/gpu
        value: "true"
        effect: NoSchedule
"""


def errors_of(tmp_path: Path, text: str, name: str = "demo.yaml") -> list[str]:
    path = tmp_path / name
    path.write_text(text)
    with pytest.raises(InvalidEnvironment) as caught:
        load_environment(path)
    return [str(e).replace(str(tmp_path) + "/", "") for e in caught.value.errors]


def test_the_valid_example_is_valid(tmp_path):
    (tmp_path / "demo.yaml").write_text(VALID)
    environment = load_environment(tmp_path / "demo.yaml")
    assert environment.pool("gpu-training").taints[0].effect == "NoSchedule"


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        pytest.param(
            ("    instanceType: p3.2xlarge", "    instanceTyp: p3.2xlarge"),
            [
                "demo.yaml:13:5: nodePools[0].instanceType: required field 'instanceType' is missing\n    fix: add 'instanceType' here",
                "demo.yaml:14:5: nodePools[0].instanceTyp: unknown field 'instanceTyp'\n    fix: did you mean 'instanceType'? "
                "allowed fields here: name, instanceType, min, desired, max, labels, taints, gpu, system, gpuTaint, capacityType, gpuSharing, alternativeInstanceTypes, diskSizeGib",
            ],
            id="unknown-key",
        ),
        pytest.param(
            ("    max: 10", '    max: "10"'),
            ["demo.yaml:17:10: nodePools[0].max: must be a whole number, got the string '10'\n    fix: write a whole number without quotes"],
            id="wrong-type",
        ),
        pytest.param(
            ('kubernetesVersion: "1.33"', "kubernetesVersion: 1.33"),
            ["demo.yaml:5:20: kubernetesVersion: must be a string, got the number 1.33\n    fix: put the value in quotes"],
            id="unquoted-version",
        ),
        pytest.param(
            ("    min: 0", "    min: 3"),
            ["demo.yaml:15:10: nodePools[0].min: min (3) is greater than desired (2)\n    fix: node pool sizes need min <= desired <= max"],
            id="min-above-desired",
        ),
        pytest.param(
            ("    desired: 2", "    desired: 12"),
            ["demo.yaml:16:14: nodePools[0].desired: desired (12) is greater than max (10)\n    fix: node pool sizes need min <= desired <= max"],
            id="desired-above-max",
        ),
        pytest.param(
            ("effect: NoSchedule", "effect: NO_SCHEDULE"),
            [
                "demo.yaml:23:17: nodePools[0].taints[0].effect: must be one of 'NoSchedule', 'PreferNoSchedule' or 'NoExecute', "
                "got the string 'NO_SCHEDULE'\n    fix: use one of the listed values, spelled exactly (Kubernetes spelling: NoSchedule, not NO_SCHEDULE)"
            ],
            id="taint-effect-in-eks-spelling",
        ),
        pytest.param(
            ("instanceType: p3.2xlarge", "instanceType: p3.2xlarg"),
            [
                "demo.yaml:14:19: nodePools[0].instanceType: 'p3.2xlarg' is not an instance type the catalog knows for aws\n"
                "    fix: did you mean 'p3.2xlarge'? known aws types: c5.4xlarge, c5a.4xlarge, c6i.4xlarge, g4dn.xlarge, p3.2xlarge, p4d.24xlarge; to use another, "
                "add it with its vCPU, memory, GPUs and prices to catalog/instance_types.yaml"
            ],
            id="unknown-instance-type",
        ),
        pytest.param(
            ("instanceType: p3.2xlarge", "instanceType: Standard_NC6s_v3"),
            [
                "demo.yaml:14:19: nodePools[0].instanceType: 'Standard_NC6s_v3' is not an instance type the catalog knows for aws\n"
                "    fix: known aws types: c5.4xlarge, c5a.4xlarge, c6i.4xlarge, g4dn.xlarge, p3.2xlarge, p4d.24xlarge; to use another, "
                "add it with its vCPU, memory, GPUs and prices to catalog/instance_types.yaml"
            ],
            id="instance-type-of-another-cloud",
        ),
        pytest.param(
            ("zones: [us-east-1a, us-east-1b]", "zones: [us-east-1a, eu-west-1b]"),
            ["demo.yaml:4:21: zones[1]: zone 'eu-west-1b' is not in region us-east-1\n    fix: aws zones of us-east-1 look like 'us-east-1a'"],
            id="zone-outside-region",
        ),
        pytest.param(
            ("    labels:\n", "    gpu: {count: 4}\n    labels:\n"),
            [
                "demo.yaml:18:18: nodePools[0].gpu.count: p3.2xlarge has 1 GPU(s), not 4\n"
                "    fix: set count to 1 or leave the 'gpu' block out (the instance type decides it)"
            ],
            id="gpu-count-the-instance-lacks",
        ),
        pytest.param(
            ("name: demo", "name: other"),
            ["demo.yaml:1:7: name: name 'other' does not match the file name 'demo.yaml'\n    fix: rename the file to other.yaml or set name: demo"],
            id="name-differs-from-file",
        ),
        pytest.param(
            ("      workload-type: ml-training", "      workload-type: ml training"),
            [
                "demo.yaml:19:22: nodePools[0].labels.workload-type: 'ml training' is not a valid Kubernetes label value\n"
                "    fix: use up to 63 letters, digits, '-', '_' and '.', starting and ending with a letter or digit"
            ],
            id="bad-label-value",
        ),
    ],
)
def test_each_mistake_has_its_message(tmp_path, change, expected):
    old, new = change
    assert old in VALID
    assert errors_of(tmp_path, VALID.replace(old, new, 1)) == expected


def test_duplicate_pool_names(tmp_path):
    pool = VALID[VALID.index("  - name: gpu-training") :]
    assert errors_of(tmp_path, VALID + pool) == [
        "demo.yaml:24:11: nodePools[1].name: node pool name 'gpu-training' is used twice\n"
        "    fix: give every node pool of an environment its own name"
    ]


def test_aks_pool_names_cannot_have_dashes(tmp_path):
    text = (REPO / "environments" / "azure-dr.yaml").read_text().replace("name: azure-dr", "name: demo").replace("- name: gpu\n", "- name: gpu-pool\n")
    assert errors_of(tmp_path, text) == [
        "demo.yaml:28:11: nodePools[1].name: 'gpu-pool' is not a valid node pool name on azure\n"
        "    fix: AKS node pool names: 1 to 12 lowercase letters and digits, starting with a letter (no '-')"
    ]


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        pytest.param(
            "    labels:\n      workload-type: general-compute\n",
            "    labels:\n      workload-type: general-compute\n    taints:\n      - {key: dedicated, value: system, effect: NoSchedule}\n",
            "demo.yaml:27:5: nodePools[0].taints: the AKS system pool cannot carry taints\n"
            "    fix: remove its taints, or put the tainted nodes in a user pool",
            id="tainted",
        ),
        pytest.param(
            "    min: 1\n",
            "    min: 0\n",
            "demo.yaml:22:10: nodePools[0].min: the AKS system pool needs at least one node\n    fix: set min to 1 or more",
            id="empty",
        ),
    ],
)
def test_aks_system_pool_rules(tmp_path, old, new, expected):
    """The same rules (aiops.model.cloud_rules) refuse such a pool in AksControlPlane (test_constructs_terraform.py)."""
    text = (REPO / "environments" / "azure-dr.yaml").read_text().replace("name: azure-dr", "name: demo")
    assert old in text
    assert errors_of(tmp_path, text.replace(old, new, 1)) == [expected]


# --- controlPlane: who may reach the API server ---------------------------------------------------

@pytest.mark.parametrize(
    ("section", "expected"),
    [
        pytest.param(
            "controlPlane:\n  endpoint: public\n",
            [
                "demo.yaml:25:13: controlPlane.endpoint: a public endpoint needs the networks allowed to reach it, and none are "
                "listed: it would be open to every address\n"
                "    fix: add authorizedCidrs: [<your VPN or CI egress>/32, ...], or use endpoint: private; to open it to everyone "
                "on purpose, add openToInternet: true"
            ],
            id="public-without-cidrs",
        ),
        pytest.param(
            "controlPlane:\n  endpoint: public\n  authorizedCidrs: [10.0.0.0/8, 203.0.113.5/24]\n",
            ["demo.yaml:26:33: controlPlane.authorizedCidrs[1]: '203.0.113.5/24' is not the network address of its range\n    fix: write 203.0.113.0/24"],
            id="cidr-with-host-bits",
        ),
        pytest.param(
            "controlPlane:\n  endpoint: public\n  authorizedCidrs: [office]\n",
            ["demo.yaml:26:21: controlPlane.authorizedCidrs[0]: 'office' is not a CIDR block\n    fix: write an address range such as 203.0.113.0/24"],
            id="not-a-cidr",
        ),
        pytest.param(
            "controlPlane:\n  endpoint: public\n  authorizedCidrs: [0.0.0.0/0]\n",
            [
                "demo.yaml:26:21: controlPlane.authorizedCidrs[0]: '0.0.0.0/0' is every address, so the list restricts nothing\n"
                "    fix: list the networks that need the API (VPN, CI), or, to open the endpoint to everyone on purpose, remove "
                "authorizedCidrs and set openToInternet: true"
            ],
            id="every-address-as-a-cidr",
        ),
        pytest.param(
            "controlPlane:\n  authorizedCidrs: [10.0.0.0/8]\n",
            [
                "demo.yaml:25:3: controlPlane.authorizedCidrs: authorizedCidrs is set but the endpoint is private, so nothing "
                "outside the cluster's network can use it\n    fix: set endpoint: public to let these networks in, or remove authorizedCidrs"
            ],
            id="cidrs-on-a-private-endpoint",
        ),
        pytest.param(
            "controlPlane:\n  endpoint: public\n  openToInternet: true\n  authorizedCidrs: [10.0.0.0/8]\n",
            [
                "demo.yaml:26:19: controlPlane.openToInternet: openToInternet and authorizedCidrs contradict each other\n"
                "    fix: keep authorizedCidrs (the endpoint then accepts only them) and remove openToInternet"
            ],
            id="open-and-restricted",
        ),
        pytest.param(
            "controlPlane:\n  admins: [platform-admin]\n",
            [
                "demo.yaml:25:12: controlPlane.admins[0]: 'platform-admin' is not an admin principal aws takes\n"
                "    fix: write an IAM role or user ARN such as arn:aws:iam::111122223333:role/platform-admin"
            ],
            id="admin-not-an-arn",
        ),
    ],
)
def test_control_plane_mistakes(tmp_path, section, expected):
    assert errors_of(tmp_path, VALID + section) == expected


def test_control_plane_defaults_to_private_and_a_public_endpoint_is_a_written_decision(tmp_path):
    (tmp_path / "demo.yaml").write_text(VALID)
    default = load_environment(tmp_path / "demo.yaml").control_plane
    assert (default.public, default.public_cidrs, default.admins) == (False, [], [])
    (tmp_path / "demo.yaml").write_text(VALID + "controlPlane:\n  endpoint: public\n  openToInternet: true\n")
    assert load_environment(tmp_path / "demo.yaml").control_plane.public_cidrs == ["0.0.0.0/0"]
    (tmp_path / "demo.yaml").write_text(VALID + "controlPlane:\n  endpoint: public\n  authorizedCidrs: [203.0.113.0/24]\n")
    assert load_environment(tmp_path / "demo.yaml").control_plane.public_cidrs == ["203.0.113.0/24"]


def test_disk_size_defaults_by_gpu_and_has_bounds(tmp_path):
    (tmp_path / "demo.yaml").write_text(VALID)
    assert load_environment(tmp_path / "demo.yaml").pool("gpu-training").disk_size("aws") == 200  # p3.2xlarge: a GPU pool
    assert errors_of(tmp_path, VALID.replace("    min: 0\n", "    diskSizeGib: 10\n    min: 0\n")) == [
        "demo.yaml:15:18: nodePools[0].diskSizeGib: input should be greater than or equal to 20, got 10\n    fix: change the number"
    ]


def test_duplicate_keys(tmp_path):
    assert errors_of(tmp_path, VALID.replace("cloud: aws\n", "cloud: aws\ncloud: gcp\n")) == [
        "demo.yaml:3:1: duplicate key 'cloud' (first defined on line 2)\n    fix: keep one of the two; YAML mappings cannot repeat a key"
    ]


def test_empty_file(tmp_path):
    assert errors_of(tmp_path, "# nothing here yet\n") == [
        "demo.yaml:1:1: the file is empty\n"
        "    fix: describe an environment: name, cloud, region, zones, nodePools, ... (see schemas/environment.schema.json)"
    ]


def test_yaml_syntax_error(tmp_path):
    assert errors_of(tmp_path, VALID.replace("zones: [us-east-1a, us-east-1b]", "zones: [us-east-1a, us-east-1b")) == [
        "demo.yaml:5:18: YAML syntax error: while parsing a flow sequence expected ',' or ']', but got ':'\n"
        "    fix: fix the YAML syntax at this position (indentation, quotes, a missing ':')"
    ]


def test_top_level_list(tmp_path):
    assert errors_of(tmp_path, "- name: demo\n") == [
        "demo.yaml:1:1: the top level is a CommentedSeq, not a mapping\n"
        "    fix: start the file with 'name: <environment>' and the other fields as keys"
    ]


def test_missing_file(tmp_path):
    with pytest.raises(InvalidEnvironment) as caught:
        load_environment(tmp_path / "nowhere.yaml")
    (error,) = caught.value.errors
    assert error.message == "file not found"
    assert error.line is None


def test_the_cli_exits_2_and_writes_nothing(tmp_path):
    """Every error of every file is reported at once, and dist/ keeps its previous bytes."""
    project = copy_project(tmp_path / "project")
    aws = project / "environments" / "aws-primary.yaml"
    aws.write_text(aws.read_text().replace("    max: 20\n", "    max: 1\n", 1))
    gcp = project / "environments" / "gcp-burst.yaml"
    gcp.write_text(gcp.read_text().replace("region: us-central1", "region: us-central1\nregoin: typo"))
    before = {p: p.read_bytes() for p in (project / "dist").rglob("*") if p.is_file()}

    result = aiops("synth", cwd=project)

    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr.splitlines() == [
        "aiops synth: 2 error(s) in the environment files; nothing was written.",
        "environments/aws-primary.yaml:20:14: nodePools[0].desired: desired (2) is greater than max (1)",
        "    fix: node pool sizes need min <= desired <= max",
        "environments/gcp-burst.yaml:7:1: regoin: unknown field 'regoin'",
        "    fix: did you mean 'region'? allowed fields here: name, description, cloud, region, zones, kubernetesVersion, "
        "costCentre, gcpProject, git, terraformState, nodePools, workloads, controlPlane, failover",
    ]
    after = {p: p.read_bytes() for p in (project / "dist").rglob("*") if p.is_file()}
    assert after == before
