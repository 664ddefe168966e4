"""MQTT: broker URLs, the paho client set-up, the agent's publisher, topics and Home
Assistant discovery (the MQTT contract)."""
