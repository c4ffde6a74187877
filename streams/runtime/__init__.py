"""The Faust shell: app, agent, timers, web views, worker, metrics, settings, Kafka plumbing."""
