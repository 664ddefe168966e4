"""swarmgauge gauge: follows every node over MQTT and shows the whole Swarm's strain."""
