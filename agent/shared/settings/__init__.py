"""Settings both programs read: how flags and SWARMGAUGE_* variables are parsed
(options), the broker's URL (broker_url), the MQTT, LED and log flags (common), and
the start of a program (start). Plain values only: no I/O module."""
