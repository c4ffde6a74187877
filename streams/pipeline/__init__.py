"""The batch pipeline between the Faust shell and the pure core: input ledger and processing."""
