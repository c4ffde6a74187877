"""For developers and first-time users: the local Kafka broker, the demo, the fault suite."""
