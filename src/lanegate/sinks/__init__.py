"""Log sinks: decision metadata shipped from the ledger to syslog, an HTTPS webhook or a JSONL file."""
