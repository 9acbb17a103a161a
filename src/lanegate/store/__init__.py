"""Lane stores: decision records and their Merkle tree, checkpoints, API keys, lane secrets and jobs."""

from lanegate.store.base import (
    ApiKeyRecord,
    CheckpointRecord,
    DecisionQuery,
    ExportJob,
    LaneStore,
    SigningKeyRecord,
    StoredDecision,
    StoreUnavailable,
)
from lanegate.store.factory import UnsupportedStore, open_store

__all__ = ["ApiKeyRecord", "CheckpointRecord", "DecisionQuery", "ExportJob", "LaneStore", "SigningKeyRecord",
           "StoreUnavailable", "StoredDecision", "UnsupportedStore", "open_store"]
