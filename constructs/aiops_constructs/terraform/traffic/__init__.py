"""The global traffic policy of a primary: Route 53 failover records with health checks (AWS), or a Traffic Manager profile (Azure), in the primary's stack."""
