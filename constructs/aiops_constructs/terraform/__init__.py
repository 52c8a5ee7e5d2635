"""CDK Terrain constructs: the cloud side of each environment (EKS, AKS, GKE).

    cluster_stack.py    one stack per environment, with its remote backend (remote_backend.py)
    eks/ aks/ gke/      one construct per part (network, roles, control plane, node pool, ...),
                        each with typed props checked when it is built; cluster.py composes them
    props.py            InvalidProps and the checks the constructs share (cloud rules come
                        from aiops.model.cloud_rules, the same the model's validators use)
    spelling.py         taint effects in each API's spelling
    tags.py             cost-allocation tags

Each cloud's provider bindings are large (importing one costs seconds and hundreds of MB in
jsii), so cloud modules are imported only when an environment on that cloud is synthesized.
"""
