"""Reading Docker: the Engine API over its socket (only GETs), Swarm's view and the
event stream. The socket proxy that guards it is a program of its own (agent.proxy)."""
