"""The Docker socket proxy: a program of its own, run beside the agent on every node
(`python3 -m agent.proxy LISTEN [UPSTREAM]`). What it lets through: server.py."""
