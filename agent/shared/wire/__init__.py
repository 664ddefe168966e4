"""The MQTT contract both programs speak: topic layout and subscribe filters
(topics), the payloads and their strict parsers (payloads), Home Assistant discovery
(discovery) and the JSON Schemas (schemas/). Pure: no I/O."""
