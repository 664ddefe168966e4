"""Real peers for the tests: an MQTT broker and a dockerd in swarm mode, on loopback."""
