"""Personal-data detection: entities, recognizers, normalisation and the detector."""

from lanegate.pii.detector import Detector
from lanegate.pii.entities import ALL_ENTITIES, DEFAULT_ENTITIES, HEALTHCARE_ENTITIES, PCI_ENTITIES, Finding

__all__ = ["ALL_ENTITIES", "DEFAULT_ENTITIES", "HEALTHCARE_ENTITIES", "PCI_ENTITIES", "Detector", "Finding"]
