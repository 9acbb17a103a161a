"""The entity types the detector knows, and what it reports for each finding."""

from __future__ import annotations

from typing import NamedTuple

#: Detected by default (structured identifiers, secrets, and light context-based persons and addresses).
DEFAULT_ENTITIES: tuple[str, ...] = (
    "EMAIL_ADDRESS", "PHONE_NUMBER", "CREDIT_CARD", "IBAN_CODE", "IP_ADDRESS", "US_SSN", "US_ITIN", "UK_NINO",
    "DE_TAX_ID", "FR_NIR", "ES_DNI", "ES_NIE", "IT_FISCAL_CODE", "NL_BSN", "PASSPORT", "DATE_OF_BIRTH",
    "URL_CREDENTIALS", "SECRET", "PERSON", "STREET_ADDRESS",
)
#: Added by ``healthcare_mode``.
HEALTHCARE_ENTITIES: tuple[str, ...] = ("UK_NHS", "US_NPI", "MEDICAL_RECORD_NUMBER")
#: Added by ``pci_mode`` (card numbers themselves are always detected).
PCI_ENTITIES: tuple[str, ...] = ("CARD_EXPIRY", "CARD_CVV")
#: Found only by a named-entity model (``ner``); persons are found by patterns too.
MODEL_ENTITIES: tuple[str, ...] = ("LOCATION",)
ALL_ENTITIES: frozenset[str] = frozenset(DEFAULT_ENTITIES + HEALTHCARE_ENTITIES + PCI_ENTITIES + MODEL_ENTITIES)


class Finding(NamedTuple):
    """One detected value: its type, its span in the text as given (end exclusive) and a confidence. (A named
    tuple: the detector makes several per text, and one is built in a third of a frozen dataclass's time.)"""

    entity: str
    start: int
    end: int
    score: float

    def overlaps(self, other: Finding) -> bool:
        return self.start < other.end and other.start < self.end
