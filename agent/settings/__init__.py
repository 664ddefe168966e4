"""The agent's own settings (config): its flags, checked once, as plain values."""
