"""Settings: flags and SWARMGAUGE_* environment variables, read once and checked."""
