"""The PhysHMR application: a vision-conditioned student distilled from the expert (DAgger)."""
