"""Governance: the registry of models and datasets, their lineage, and the policy that decides where a model
may run (shared by the CI gate and the gateway)."""
