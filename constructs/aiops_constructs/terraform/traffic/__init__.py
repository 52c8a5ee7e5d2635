"""The global traffic policy: Route 53 failover records with health checks, in the primary's stack."""
