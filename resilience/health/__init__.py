"""Health checks: one small class per dependency, aggregated by /readyz."""
