"""The MQTT link of the agent and the gauge: a paho-mqtt 2.x client from a broker URL
(client) and the publisher that keeps one retained state per topic (publisher)."""
