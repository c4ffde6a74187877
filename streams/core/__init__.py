"""Pure domain core: no Kafka, no Faust, no clock. State transitions and alert rules."""
