"""swarmgauge agent: reads a Swarm node's load and tasks, publishes and shows them."""

__version__ = "0.1.0"
