"""Public delivery histories (USAID SCMS, DataCo) → the ``orders.jsonl`` + ``scans.jsonl`` that
``parcelwatch train`` reads: table reading, one adapter per dataset, and the vendoring script."""
