"""What the agent and the gauge share beyond MQTT and the display: errors, the node-name
rule, the heartbeat, signal handling, log-once, the strain colours."""
