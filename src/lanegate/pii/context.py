"""Context words: some values only count as personal data with a word nearby that says what they are
(a nine-digit number next to "passport"). Lists per language; matching is case-insensitive."""

from __future__ import annotations

CONTEXT: dict[str, dict[str, tuple[str, ...]]] = {
    "PASSPORT": {
        "en": ("passport", "travel document", "passport no", "passport number"),
        "de": ("reisepass", "pass-nr", "passnummer", "pass nr"),
        "fr": ("passeport",), "es": ("pasaporte",), "it": ("passaporto",),
    },
    "DATE_OF_BIRTH": {
        "en": ("born", "birth", "dob", "d.o.b", "birthday"),
        "de": ("geboren", "geburtsdatum", "geb."), "fr": ("né le", "née le", "naissance"),
        "es": ("nacido", "nacida", "nacimiento"), "it": ("nato", "nata", "nascita"),
    },
    "NL_BSN": {"en": ("bsn", "citizen service number"), "de": ("bsn",), "fr": ("bsn",), "es": ("bsn",),
               "it": ("bsn",), "nl": ("bsn", "burgerservicenummer", "sofinummer")},
    "MEDICAL_RECORD_NUMBER": {
        "en": ("mrn", "medical record", "patient id", "patient number", "chart number"),
        "de": ("patientennummer", "patienten-id", "fallnummer"), "fr": ("dossier médical", "numéro de patient"),
        "es": ("historia clínica", "número de paciente"), "it": ("cartella clinica", "numero paziente"),
    },
    "CARD_EXPIRY": {
        "en": ("exp", "expiry", "expires", "expiration", "valid thru", "valid through"),
        "de": ("gültig bis", "ablauf"), "fr": ("expire", "expiration"), "es": ("vence", "caducidad"),
        "it": ("scadenza",),
    },
    "CARD_CVV": {
        "en": ("cvv", "cvc", "cvv2", "cvc2", "cid", "security code"), "de": ("prüfziffer", "kartenprüfnummer"),
        "fr": ("cryptogramme",), "es": ("código de seguridad",), "it": ("codice di sicurezza",),
    },
    "PHONE_NUMBER": {
        "en": ("phone", "tel", "mobile", "cell", "call", "fax", "number"), "de": ("telefon", "handy", "tel."),
        "fr": ("téléphone", "portable", "tél"), "es": ("teléfono", "móvil"), "it": ("telefono", "cellulare"),
    },
}


def words(entity: str, languages: tuple[str, ...]) -> tuple[str, ...]:
    """The context words of ``entity`` in ``languages``."""
    table = CONTEXT.get(entity, {})
    return tuple(dict.fromkeys(w for lang in languages for w in table.get(lang, ())))
