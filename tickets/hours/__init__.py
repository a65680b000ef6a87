"""Support-hour packages and enablement hours: the ledger, its warnings and the demo's entries."""
