"""``parcelwatch ingest``: the HTTP receiver of tracking platforms' webhooks (signatures checked,
bodies published to ``carrier-raw`` and answered only once Kafka has them)."""
