"""swarmgauge gauge: shows the whole Swarm's strain (issue 5 builds it)."""
