"""Lab 5: every node's strain as it arrives.

    MQTT_PASSWORD=… MQTT_CAFILE=… python3 workshop/subscriber.py [HOST] [PORT] [USER]

MQTT_CAFILE: the CA that signed the broker's certificate (the stack's broker speaks
TLS: workshop/secrets/ca.crt); unset, the connection is plain.
"""

import json
import os
import sys

import paho.mqtt.client as mqtt

host = sys.argv[1] if len(sys.argv) > 1 else "localhost"
port = int(sys.argv[2]) if len(sys.argv) > 2 else 8883
user = sys.argv[3] if len(sys.argv) > 3 else None  # the stack's broker: viewer


def on_message(client, userdata, msg):
    state = json.loads(msg.payload)
    tasks = state["tasks"]  # the workload's: all but the gauge's own (its agent, its proxy)
    running = "unknown" if tasks["running"] is None else tasks["running"] - tasks.get("own", 0)
    print(f"{state['node']}: strain {state['strain']['value']:.0%}, {running} tasks", flush=True)


client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2)
if user:
    client.username_pw_set(user, os.environ.get("MQTT_PASSWORD"))
if os.environ.get("MQTT_CAFILE"):
    client.tls_set(ca_certs=os.environ["MQTT_CAFILE"])  # and checks the broker's name


def on_connect(client, userdata, flags, reason, properties):
    if reason.is_failure:  # a wrong or missing password: say so, and stop
        sys.exit(f"the broker refused: {reason}")
    client.subscribe("swarmgauge/node/+/state")


client.on_connect = on_connect
client.on_message = on_message
client.connect(host, port)
try:
    client.loop_forever()
except KeyboardInterrupt:  # Ctrl-C: stop quietly
    pass
