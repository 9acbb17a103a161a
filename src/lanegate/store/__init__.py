"""Lane stores: decision records, API keys and lane secrets, behind one interface."""

from lanegate.store.base import ApiKeyRecord, DecisionQuery, LaneStore, StoredDecision, StoreUnavailable
from lanegate.store.factory import UnsupportedStore, open_store

__all__ = ["ApiKeyRecord", "DecisionQuery", "LaneStore", "StoreUnavailable", "StoredDecision", "UnsupportedStore",
           "open_store"]
