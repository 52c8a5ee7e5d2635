"""The Helm charts the platform installs, each pinned to one version (looked up in 2026-11).

Every pin says where its version was found. Bump a version here, run `aiops synth`, and review
the chart's release notes and the diff of dist/.
"""

from __future__ import annotations

from aiops_constructs.k8s.helm_release import ChartSource

# NVIDIA GPU operator: device plugin, GPU feature discovery, DCGM and DCGM exporter.
# Source: NVIDIA GPU Operator release notes (docs.nvidia.com/datacenter/cloud-native/gpu-operator/
# latest/release-notes.html), 25.10.1 with DCGM Exporter 4.4.2-4.7.0 and device plugin 0.18.1;
# chart versions carry the "v" (e.g. gpu-operator-v25.3.4.tgz in NVIDIA/gpu-operator#1708).
GPU_OPERATOR = ChartSource("https://helm.ngc.nvidia.com/nvidia", "gpu-operator", "v25.10.1")

# Prometheus operator, Prometheus, node exporter, kube-state-metrics, Grafana.
# Source: prometheus-community/helm-charts release kube-prometheus-stack-85.1.2 (release notes
# quoted in ocf/kubernetes#129).
KUBE_PROMETHEUS_STACK = ChartSource("https://prometheus-community.github.io/helm-charts", "kube-prometheus-stack", "85.1.2")

# Serves Prometheus series (the DCGM GPU metric) through the custom metrics API for HPAs.
# Source: prometheus-community/helm-charts prometheus-adapter 5.3.0 (chart upgrade robot,
# DaoCloud/dce-charts-repackage#3936, 2026-02-20).
PROMETHEUS_ADAPTER = ChartSource("https://prometheus-community.github.io/helm-charts", "prometheus-adapter", "5.3.0")

# The resource metrics API (CPU, memory) for HPAs; EKS does not install it, AKS and GKE do.
# Source: kubernetes-sigs/metrics-server chart 3.13.0 (entigolabs/entigo-infralib#1076,
# DaoCloud/dce-charts-repackage#3489).
METRICS_SERVER = ChartSource("https://kubernetes-sigs.github.io/metrics-server/", "metrics-server", "3.13.0")

# Cluster autoscaler (EKS only; AKS and GKE scale their pools themselves).
# Source: kubernetes/autoscaler chart cluster-autoscaler-9.59.0 (entigolabs/entigo-infralib#1583,
# 2026-08-03).
CLUSTER_AUTOSCALER = ChartSource("https://kubernetes.github.io/autoscaler", "cluster-autoscaler", "9.59.0")

# The autoscaler's minor version must match the cluster's; the chart defaults to the newest.
# Source: aws-ia/terraform-aws-eks-blueprints-addons#516 (2026-07-17), "per the autoscaler
# releases page": 1.33 -> v1.33.5, 1.34 -> v1.34.4, 1.35 -> v1.35.1; 1.36 -> v1.36.1, released
# 2026-07-23 (kubernetes/autoscaler#10169, which makes it the chart's default from 9.60.0).
CLUSTER_AUTOSCALER_IMAGE_TAGS = {"1.33": "v1.33.5", "1.34": "v1.34.4", "1.35": "v1.35.1", "1.36": "v1.36.1"}

# KubeRay operator and its CRDs (RayCluster, RayJob, RayService).
# Source: ray-project/kuberay-helm#89 "[release-1.7] update Helm charts to KubeRay v1.7.0"; 1.7.0
# is the release of the CRDs in shared/upstream/crds/kuberay.
KUBERAY_OPERATOR = ChartSource("https://ray-project.github.io/kuberay-helm/", "kuberay-operator", "1.7.0")

# Dask operator and its CRDs (DaskCluster, DaskWorkerGroup, DaskJob, DaskAutoscaler).
# Source: dask-kubernetes 2026.3.0 (PyPI), whose wheel ships the CRDs the tests validate against
# (tools/dask-kubernetes-requirements.txt); the chart is published at helm.dask.org with the
# same version (dask/helm-chart README; the Dask docs install it from that repository).
DASK_OPERATOR = ChartSource("https://helm.dask.org", "dask-kubernetes-operator", "2026.3.0")

# Kueue (ResourceFlavor, ClusterQueue, LocalQueue), published only as an OCI chart.
# Source: kubernetes-sigs/kueue v0.19.2, the tag of the CRDs in shared/upstream/crds/kueue; the
# Kueue install docs use oci://registry.k8s.io/kueue/charts/kueue with the version unprefixed.
KUEUE = ChartSource("oci://registry.k8s.io/kueue/charts/kueue", "kueue", "0.19.2")

# The AWS Load Balancer Controller (EKS only, when the environment serves): the ALB of the
# serving Ingress (class alb), with the TLS certificate it discovers in ACM by the Ingress's host.
# Source: kubernetes-sigs/aws-load-balancer-controller, helm/aws-load-balancer-controller/
# Chart.yaml at tag v3.5.0 (version 3.5.0, appVersion v3.5.0; commit 225f445, 2026-08-17), the
# chart eks-charts publishes (dasmeta/terraform-aws-eks#152 calls 3.4.2 "latest stable on
# eks-charts" on 2026-07-22).
AWS_LOAD_BALANCER_CONTROLLER = ChartSource("https://aws.github.io/eks-charts", "aws-load-balancer-controller", "3.5.0")

# Charts the platform installs but this project's offline chart mirror (shared/upstream/charts)
# does not hold, so tools/charts.lock cannot pin their packages: `aiops simulate` reports their
# HelmReleases as not rendered instead of installing them, and `aiops flux check` knows none of
# their CRDs. The Go module proxy does not serve the controller's v2 or v3 module either.
NOT_IN_MIRROR = (AWS_LOAD_BALANCER_CONTROLLER,)
