"""Reading Docker: the Engine API over its socket (only GETs), Swarm's view, the event
stream, and the socket proxy that lets through only what the agent reads."""
