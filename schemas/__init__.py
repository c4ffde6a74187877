"""Event contracts: JSON Schema files, Python types, codecs, topic names and the table state."""
