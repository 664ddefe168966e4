"""Reading the host: one small source a reading (sampler.py puts them together)."""

from agent.host.reading import HostReading
from agent.host.sampler import HostSampler

__all__ = ["HostReading", "HostSampler"]
