"""`aiops diff` end to end: real git, real syntheses, the commits a reviewer meets.

The throwaway repository (tests/review_scenario.py) is built once for this module: two syntheses
of one environment (~10 s each).
"""

from __future__ import annotations

import json
from decimal import Decimal

import pytest

from aiops.synth.dist_tree import read_tree
from aiops.tree.git import files_at_revision
from conftest import REPO, aiops, run
from review_scenario import build, git


@pytest.fixture(scope="module")
def scenario(tmp_path_factory):
    return build(tmp_path_factory.mktemp("review") / "repo")


_REPORTS: dict[tuple, str] = {}


def diff_json(scenario, *args: str, cached: bool = True) -> dict:
    """The JSON report of `aiops diff` in the scenario repository (each distinct question asked once)."""
    key = (scenario.repo, args)
    if key not in _REPORTS or not cached:
        result = aiops("diff", "--format", "json", *args, cwd=scenario.repo)
        assert result.returncode == 0, result.stderr
        _REPORTS[key] = result.stdout
    return json.loads(_REPORTS[key])


def by(items, key, value):
    [item] = [i for i in items if i[key] == value]
    return item


def test_the_report_names_each_change(scenario):
    report = diff_json(scenario, "--base", scenario.base, "--head", scenario.head)
    assert [e["name"] for e in report["environments"]] == ["aws-primary"]  # azure-dr and gcp-burst did not change
    [aws] = report["environments"]

    hpa = by(aws["objects"], "kind", "HorizontalPodAutoscaler")
    assert (hpa["action"], hpa["namespace"], hpa["name"], hpa["file"], hpa["line"]) == (
        "changed", "ml-serving", "model-server", "dist/aws-primary/apps/inference-service.yaml", 114)
    assert hpa["fields"] == [{"path": "spec.metrics[1].resource.target.averageUtilization", "change": "changed", "old": 70, "new": 80}]

    ray = by(aws["objects"], "kind", "RayCluster")
    assert (ray["action"], ray["apiVersion"], ray["fate"], ray["owner"], ray["file"], ray["line"]) == (
        "removed", "ray.io/v1", "pruned", "flux-system/apps", "dist/aws-primary/apps/ray-cluster.yaml", 2)
    # with the RayCluster gone, the synthesis also drops the KubeRay operator: Flux prunes that too
    assert {(o["kind"], o["name"], o["owner"]) for o in aws["objects"] if o["fate"] == "pruned"} == {
        ("RayCluster", "aiops-ray-cluster", "flux-system/apps"),
        ("PodDisruptionBudget", "aiops-ray-cluster-gpu-workers", "flux-system/apps"),
        ("Namespace", "kuberay-system", "flux-system/infra-controllers"),
        ("HelmRepository", "kuberay-operator", "flux-system/infra-controllers"),
        ("HelmRelease", "kuberay-operator", "flux-system/infra-controllers"),
        # and the Ray cluster's NetworkPolicies
        ("NetworkPolicy", "aiops-ray-cluster-peers", "flux-system/infra-configs"),
        ("NetworkPolicy", "aiops-ray-cluster-head-clients", "flux-system/infra-configs"),
    }
    # ml-serving's quota and container maximum follow its pool's new instance type; ml-training's
    # quota loses the Ray cluster's room
    assert {(o["kind"], o["namespace"]) for o in aws["objects"] if o["kind"] in ("ResourceQuota", "LimitRange")} == {
        ("ResourceQuota", "ml-training"), ("ResourceQuota", "ml-serving"), ("LimitRange", "ml-serving")}
    # the larger pool, and the Ray cluster gone, raise the training queue's GPU quota (10 + 2 + 10 no longer reserved)
    queue = by(aws["objects"], "name", "training")
    assert {"path": "spec.resourceGroups[0].flavors[name=gpu-training].resources[name=nvidia.com/gpu].nominalQuota",
            "change": "changed", "old": "10", "new": "22"} in queue["fields"]

    # The serving pool is one group per zone (aiops.model.zonal): each of the three is replaced.
    for zone in "abc":
        replaced = by(aws["terraform"], "address", f"aws_eks_node_group.node_group_gpu_inference_us_east_1{zone}")
        assert (replaced["action"], replaced["file"]) == ("replace", "dist/aws-primary/terraform/eks/cdk.tf.json")
        assert [(b["attribute"], b["effect"], b["old"], b["new"]) for b in replaced["because"]] == [
            ("instance_types", "replace", ["g4dn.xlarge"], ["p3.2xlarge"])]
    resized = by(aws["terraform"], "address", "aws_eks_node_group.node_group_gpu_training")
    assert (resized["action"], resized["fields"]) == (
        "update", [{"path": "scaling_config.max_size", "change": "changed", "old": 20, "new": 22}])

    assert [a["kind"] for a in aws["alerts"]] == [*["replace"] * 3, *["prune"] * 7, "capacity", "capacity"]
    assert report["destructive"] == 10


def test_the_exact_cost_deltas(scenario):
    [aws] = diff_json(scenario, "--base", scenario.base, "--head", scenario.head)["environments"]
    training = by(aws["pools"], "pool", "gpu-training")
    # 2 more p3.2xlarge at max: 2 x 3.06 USD x 730 hours a month
    assert Decimal(str(training["monthlyDeltaUSD"]["max"])) == 2 * Decimal("3.06") * 730 == Decimal("4467.60")
    assert training["monthlyDeltaUSD"] == {"min": 0.0, "desired": 0.0, "max": 4467.6}
    assert (training["before"]["gpus"]["max"], training["after"]["gpus"]["max"]) == (20, 22)
    inference = by(aws["pools"], "pool", "gpu-inference")
    # g4dn.xlarge (0.526) -> p3.2xlarge (3.06): 2.534 USD an hour more per node, 1/3/11 nodes (its T4s time-sliced: 11 at max)
    assert inference["monthlyDeltaUSD"] == {"min": 1849.82, "desired": 5549.46, "max": 20348.02}
    assert (inference["before"]["gpuModel"], inference["after"]["gpuModel"]) == ("T4", "V100")
    assert aws["summary"]["monthlyUSD"] == {
        "min": {"before": 1376.78, "after": 3226.6, "delta": 1849.82},
        "desired": {"before": 8101.54, "after": 13651.0, "delta": 5549.46},
        # gpu-training's 20 p3.2xlarge at max: 10 more than before this change's base, 22338.00 a month
        "max": {"before": 73719.78, "after": 98535.4, "delta": 24815.62},
    }
    assert aws["summary"]["gpusAtMax"] == {"before": 31, "after": 33}
    assert {p["item"]: (p["hourlyUSD"], p["date"]) for p in aws["prices"]}["p3.2xlarge"] == (3.06, "2026-01")


def test_costs_match_aiops_cost_on_each_revision(scenario):
    """`aiops cost` and `aiops diff` use one calculation: their numbers agree."""
    [aws] = diff_json(scenario, "--base", scenario.base, "--head", scenario.head)["environments"]
    for side, revision in (("before", scenario.base), ("after", scenario.head)):
        result = aiops("cost", "--rev", revision, "--format", "json", cwd=scenario.repo)
        assert result.returncode == 0, result.stderr
        cost = json.loads(result.stdout)["environments"]["aws-primary"]["monthlyUSD"]
        assert cost == {size: aws["summary"]["monthlyUSD"][size][side] for size in ("min", "desired", "max")}


def test_the_markdown_comment(scenario, snapshot):
    # --as-of: the age of the catalog's prices is judged on a fixed day, so the comment is the same any day
    result = aiops("diff", "--base", scenario.base, "--head", scenario.head, "--as-of", "2026-12-02", cwd=scenario.repo)
    assert result.returncode == 0
    text = result.stdout.replace(scenario.base[:12], "BASE").replace(scenario.head[:12], "HEAD")
    lines = text.splitlines()
    assert lines[0] == "### aiops diff: `dist/` at BASE → HEAD"
    assert lines[4] == "| **aws-primary** | 0 / 6 / 7 | 7 | 3 / 0 | 31 → 33 | +1,849.82 / +5,549.46 / +24,815.62 |"
    assert lines[6] == "**10 change(s) that need attention before merging**"
    assert "azure-dr" not in text and "gcp-burst" not in text  # nothing for unchanged environments
    assert text.index("<details>") > text.index("| **aws-primary** |")  # summary first, details folded under it
    assert "p3.2xlarge 3.06 USD/h (us-east-1; karpenter-provider-aws generated on-demand pricing" in text
    snapshot.snapshot_dir = REPO / "tests" / "snapshots" / "test_review_diff"
    snapshot.assert_match(text, "scenario.md")


def test_fail_on_destroy(scenario):
    failing = aiops("diff", "--base", scenario.base, "--head", scenario.head, "--fail-on-destroy", "--format", "text", cwd=scenario.repo)
    assert failing.returncode == 1
    assert failing.stderr == ("aiops diff: 10 destructive change(s) (Flux prunes or Terraform destroys or replaces);"
                              " failing because of --fail-on-destroy\n")
    assert aiops("diff", "--base", scenario.base, "--head", scenario.head, cwd=scenario.repo).returncode == 0
    quiet = aiops("diff", "--base", scenario.head, "--head", scenario.head, "--fail-on-destroy", cwd=scenario.repo)
    assert quiet.returncode == 0
    assert "No changes to `dist/`" in quiet.stdout


def test_a_path_that_disappears_stops_flux_instead_of_pruning(scenario):
    [aws] = diff_json(scenario, "--base", scenario.head, "--head", scenario.emptied)["environments"]
    assert {(o["action"], o["fate"]) for o in aws["objects"]} == {("removed", "kept-path-not-found")}
    assert len(aws["objects"]) == 12  # with the Ingress and its NetworkPolicy
    assert aws["summary"]["pruned"] == 0
    [alert] = aws["alerts"]
    assert alert["message"] == (
        'Kustomization flux-system/apps: its path ./dist/aws-primary/apps no longer exists, so Flux stops with'
        ' "kustomization path not found" and does not prune the 12 object(s) it applied (fluxcd/flux2#2627);'
        " keep the folder (e.g. with an empty kustomization.yaml) until Flux has pruned them, or remove the Kustomization too")
    assert (alert["kind"], alert["file"], alert["line"], alert["severity"]) == (
        "path-not-found", "dist/aws-primary/cluster/apps.yaml", 2, "danger")
    assert diff_json(scenario, "--base", scenario.head, "--head", scenario.emptied)["destructive"] == 0


def test_the_synthesis_removing_a_kustomization_with_its_path_prunes_what_it_applied(scenario):
    """With no workloads left, `aiops synth` deletes the apps Kustomization and its folder together:
    the retirement Flux supports (its finalizer prunes the inventory), so no path-not-found alert."""
    report = diff_json(scenario, "--base", scenario.head, "--head", scenario.dropped)
    # azure-dr changes too: its failover section went with the workload it stood by for
    assert [e["name"] for e in report["environments"]] == ["aws-primary", "azure-dr"]
    aws = by(report["environments"], "name", "aws-primary")
    apps = by(aws["objects"], "name", "apps")
    assert (apps["kind"], apps["fate"], apps["owner"]) == ("Kustomization", "pruned", "flux-system/flux-system")
    assert sum(1 for o in aws["objects"] if o["owner"] == "flux-system/apps" and o["fate"] == "pruned") == 12  # with the Ingress and its NetworkPolicy
    assert "path-not-found" not in {alert["kind"] for alert in aws["alerts"]}
    assert aws["summary"]["pruned"] == sum(1 for o in aws["objects"] if o["fate"] == "pruned")


def test_defaults_are_the_merge_base_and_the_working_tree(scenario):
    explicit = diff_json(scenario, "--base", scenario.base, "--head", scenario.head)
    default = diff_json(scenario)
    assert default["base"] == f"{scenario.base[:12]} (merge base with main)"
    assert default["head"] == "the working tree"
    assert default["environments"] == explicit["environments"]
    service = scenario.repo / "dist/aws-primary/apps/inference-service.yaml"
    original = service.read_text()
    try:
        service.write_text(original.replace("maxReplicas: 20", "maxReplicas: 4", 1))
        [aws] = diff_json(scenario, cached=False)["environments"]
        fields = by(aws["objects"], "kind", "HorizontalPodAutoscaler")["fields"]
        assert {"path": "spec.maxReplicas", "change": "changed", "old": 20, "new": 4} in fields
    finally:
        service.write_text(original)


def test_two_folders(scenario, tmp_path):
    old, new = tmp_path / "old", tmp_path / "new"
    for folder, revision in ((old, scenario.base), (new, scenario.head)):
        for path, data in files_at_revision(scenario.repo, revision, "dist").items():
            target = folder / path.removeprefix("dist/")
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
    from_folders = json.loads(aiops("diff", "--format", "json", str(old), str(new), cwd=tmp_path, check=True).stdout)
    from_git = diff_json(scenario, "--base", scenario.base, "--head", scenario.head)
    assert (from_folders["base"], from_folders["head"]) == (str(old), str(new))
    assert from_folders["environments"] == from_git["environments"]


def test_reading_a_revision_gives_the_committed_files(scenario):
    committed = files_at_revision(scenario.repo, scenario.base, "dist")
    assert committed == {f"dist/{path}": data for path, data in read_tree(REPO / "dist").items()}
    assert "dist/aws-primary/apps/ray-cluster.yaml" not in files_at_revision(scenario.repo, scenario.head, "dist")
    assert files_at_revision(scenario.repo, scenario.base, "no-such-folder") == {}


def test_bad_input_exits_2_with_a_clear_message(scenario, tmp_path):
    unknown = aiops("diff", "--base", "no-such-branch", cwd=scenario.repo)
    assert (unknown.returncode, unknown.stdout) == (2, "")
    assert unknown.stderr == (
        f"aiops diff: unknown revision 'no-such-branch': no such commit, branch or tag in {scenario.repo}"
        " (in CI, fetch the history first, e.g. actions/checkout with fetch-depth: 0)\n")
    outside = aiops("diff", cwd=tmp_path)
    assert (outside.returncode, outside.stderr) == (
        2, f"aiops diff: {tmp_path} is not inside a git repository; run aiops diff in your clone, or pass two folders to compare\n")
    mixed = aiops("diff", "--base", scenario.base, str(tmp_path), str(tmp_path), cwd=scenario.repo)
    assert (mixed.returncode, mixed.stderr) == (2, "aiops diff: give either two folders or --base/--head revisions, not both\n")
    one = aiops("diff", str(tmp_path), cwd=scenario.repo)
    assert (one.returncode, one.stderr) == (2, "aiops diff: give two folders (OLD NEW), or none to compare git revisions\n")


def test_the_scenario_really_came_from_the_synthesis(scenario):
    """The head's Terraform is what `aiops synth` wrote for the changed environment, not a hand edit."""
    changed = git(scenario.repo, "diff", "--name-only", scenario.base, scenario.head).splitlines()
    assert "environments/aws-primary.yaml" in changed
    assert "dist/aws-primary/terraform/eks/cdk.tf.json" in changed
    assert run(["git", "diff", "--quiet", scenario.head, "--", "dist"], scenario.repo).returncode == 0  # clean checkout


def test_the_text_report(scenario):
    text = aiops("diff", "--base", scenario.base, "--head", scenario.head, "--format", "text", cwd=scenario.repo, check=True).stdout
    lines = text.splitlines()
    assert lines[0] == f"aiops diff: dist/ at {scenario.base[:12]} -> {scenario.head[:12]}"
    assert ("aws-primary: objects added/changed/removed 0 / 6 / 7; pruned 7; cloud resources replaced/destroyed 3 / 0;"
            " GPUs at max 31 -> 33") in lines
    assert "  cost at max: 73,719.78 -> 98,535.40 (+24,815.62) USD a month" in lines
    assert "      spec.metrics[1].resource.target.averageUtilization: 70 -> 80" in lines
    assert '      instance_types: ["g4dn.xlarge"] -> ["p3.2xlarge"] [forces replacement]' in lines
    # The line is where the resource's block opens in the head revision's file.
    head_json = run(["git", "show", f"{scenario.head}:dist/aws-primary/terraform/eks/cdk.tf.json"], scenario.repo).stdout.splitlines()
    line = next(n for n, text in enumerate(head_json, 1) if text.strip() == '"node_group_gpu_training": {')
    assert f"  terraform update aws_eks_node_group.node_group_gpu_training dist/aws-primary/terraform/eks/cdk.tf.json:{line}" in lines


def test_the_collector_pause_ends_with_the_diff(tmp_path):
    """`aiops diff` pauses the cyclic garbage collector while it works (commands/diff.py); a
    caller that runs it in-process gets the collector back as it was."""
    import gc

    from aiops.cli import main

    (tmp_path / "old").mkdir()
    (tmp_path / "new").mkdir()
    (tmp_path / "new" / "cm.yaml").write_text("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n")
    args = ["diff", str(tmp_path / "old"), str(tmp_path / "new"), "--output", str(tmp_path / "report.md")]
    assert gc.isenabled()
    assert main(args) == 0
    assert gc.isenabled()
    assert "ConfigMap" in (tmp_path / "report.md").read_text()
    gc.disable()
    try:
        assert main(args) == 0
        assert not gc.isenabled()
    finally:
        gc.enable()
