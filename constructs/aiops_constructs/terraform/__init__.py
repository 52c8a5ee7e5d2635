"""CDK Terrain constructs: the cloud side of each environment (EKS, AKS, GKE).

Each cloud's provider bindings are large (importing one costs seconds and hundreds of MB in
jsii), so cloud modules are imported only when an environment on that cloud is synthesized.
"""
