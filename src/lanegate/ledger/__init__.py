"""The gateway side of the evidence: signing keys, checkpoints, proofs for receipts, export bundles."""
