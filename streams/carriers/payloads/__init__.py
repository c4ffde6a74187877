"""One parser per source: a document in the source's documented format → ``CarrierResponse``."""
