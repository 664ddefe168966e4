"""The MQTT topic layout (the README's "MQTT contract"): where each publisher's
messages go, what the gauge subscribes to, and which topic a message came on."""

from __future__ import annotations

from dataclasses import dataclass

from agent.shared.wire.names import is_node_name

ONLINE = "online"  # availability payloads (retained; the last will says offline)
OFFLINE = "offline"
NODE_KINDS = ("state", "availability", "cluster")  # the topics under <prefix>/node/<node>/


@dataclass(frozen=True)
class Topics:
    """Where one publisher's messages go: <base>/state and <base>/availability, and for a
    node its cluster state (published while it leads)."""

    base: str
    node: str  # who publishes, for the log
    cluster: str | None  # None: never publishes a cluster state

    @property
    def state(self) -> str:
        return f"{self.base}/state"

    @property
    def availability(self) -> str:
        return f"{self.base}/availability"


def node_topics(prefix: str, node: str) -> Topics:
    """A node's topics; node is a safe name. Its cluster state goes under the node's own
    topics, so the broker's ACL proves who published it (a shared topic would take
    anyone's word)."""
    base = f"{prefix}/node/{node}"
    return Topics(base, node, f"{base}/cluster")


def gauge_topics(prefix: str) -> Topics:
    """The gauge's own: the whole cluster in a few numbers. The leader's agent publishes
    the cluster state, never the gauge."""
    return Topics(f"{prefix}/gauge", "the gauge", None)


def node_filters(prefix: str) -> tuple[str, ...]:
    """What the gauge subscribes to: every node's state, availability and cluster state."""
    return tuple(f"{prefix}/node/+/{kind}" for kind in NODE_KINDS)


def node_topic(prefix: str, topic: str) -> tuple[str, str] | None:
    """(node, kind) of a topic under <prefix>/node/, or None for any other topic (a
    name that is not a safe node name, a kind not in NODE_KINDS, more levels)."""
    head = f"{prefix}/node/"
    if not topic.startswith(head):
        return None
    rest = topic[len(head) :].split("/")
    if len(rest) != 2 or not is_node_name(rest[0]) or rest[1] not in NODE_KINDS:
        return None
    return rest[0], rest[1]
