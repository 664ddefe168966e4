"""One error root for the project; the CLI turns these into one line and exit 2."""


class SwarmgaugeError(Exception):
    """Base of every error swarmgauge raises on purpose."""


class ConfigError(SwarmgaugeError, ValueError):
    """A flag or environment value is invalid. The message names it."""
