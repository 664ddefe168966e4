"""Settings both programs read: how flags and SWARMGAUGE_* variables are parsed
(options), the broker's URL and TLS files (broker_url), the MQTT and discovery flags
(mqtt), the LEDs' (leds), and what every program starts with (start: --log-level,
--heartbeat-file, reading the settings). Plain values only: no I/O module."""
