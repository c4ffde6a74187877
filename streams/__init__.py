"""The Faust application (thin shell) and the pure domain core (parcelwatch.streams.core)."""
