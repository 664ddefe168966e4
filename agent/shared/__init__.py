"""What the agent and the gauge both use, and so the one part of agent/ the gauge
imports besides the display, the frames and the strain:

- wire/: the MQTT contract (topics, payloads and their parsers, JSON Schemas, Home
  Assistant discovery);
- mqtt/: the MQTT link (paho client set-up and the publisher both programs run);
- settings/: the flags both programs read, and how flags are parsed;
- errors, heartbeat, signals, logs: small helpers.

Nothing here imports the rest of the agent but its pure middle (frames, strain)."""
