"""The recognizers: one rule per shape of an entity, each a pattern, an optional validator and optional
context words. Patterns run on normalised text (:mod:`lanegate.pii.normalize`) and are written so that no
input makes them backtrack without bound (no nested quantifiers over overlapping classes).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from lanegate.patterns import widest
from lanegate.pii import validators as v

I = re.IGNORECASE  # noqa: E741 - the flag's usual short name
_MONTHS = (
    r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|sep(?:t(?:ember)?)?|"
    r"oct(?:ober)?|nov(?:ember)?|dec(?:ember)?|januar|februar|märz|mai|juni|juli|oktober|dezember|"
    r"janvier|février|mars|avril|juin|juillet|août|septembre|octobre|novembre|décembre|enero|febrero|"
    r"marzo|abril|mayo|junio|julio|agosto|septiembre|octubre|noviembre|diciembre|gennaio|febbraio|aprile|"
    r"maggio|giugno|luglio|settembre|ottobre|dicembre)"
)


@dataclass(frozen=True, slots=True)
class Rule:
    """One shape of one entity.

    ``validate`` confirms a match (checksum, format rules); ``check`` looks at it in its place (what comes before
    and after). With ``context`` set, the entity's context words must appear near the match (``required``) or raise
    its score by ``boost``. ``trigger`` lists substrings (lower case) of which one must occur in the text for the
    rule to run at all; ``digits`` skips the rule on text without a digit; ``cluster`` and ``run`` skip it unless
    the text holds a number of that many digits (with or without separators) — and then the rule only reads the text
    around numbers. With ``window``, the rule reads only the text around each occurrence of a trigger; with
    ``backscan`` too (a pattern for a run of one class of characters, matched backwards), it is tried once per
    trigger, from where the run of those characters before the trigger begins (the local part of an email before
    ``@``). ``group`` is the pattern group that holds the value; ``extent``, where a pattern cannot tell where a
    value ends (an IBAN's length is its country's), says how much of the match it is, before ``validate`` reads it.

    ``candidate`` is the rule for the one-pass prefilter (:mod:`lanegate.pii.prefilter`): a pattern in the engine's
    syntax (no lookarounds or back-references) that matches, for every match of ``pattern`` that could become a
    finding, a span in which that match starts — context characters that ``pattern`` only looks at are matched
    instead (:func:`_not_after`, :func:`_not_before`; :func:`_fenced` derives pattern and candidate from one body).
    A bounded rule is read from each span's start as far as a match starting in it could reach, so its candidate may
    be a prefix of the match, and may leave out the character before it where that costs the engine more than the
    extra spans cost the detector. With ``open_ended``, the candidate matches only the beginning of a match — the
    fence before it (:func:`_not_after`, the same class as the pattern's lookbehind) and its first characters; the
    rest may be unbounded — and the pattern is tried one character after where each candidate starts (and at the
    text's start), in order, passing over starts inside the last match as ``finditer`` does. With ``gate``, the
    candidate only tells whether the text may hold a match (the engine neither tracks where it starts nor reports
    it twice): the rule then reads around its triggers, as it does without the engine (the whole text when it
    has none). With ``at_trigger`` (a rule with ``backscan`` and one trigger), the candidate ends where the trigger
    ends, and only that end is reported (no start: the engine reads faster when it need not track one): the rule
    is tried from the backscan at each, as without the engine. Rules without a candidate are found through their
    triggers.
    """

    entity: str
    pattern: re.Pattern[str]
    score: float
    validate: Callable[[str], bool] | None = None
    context: str | None = None
    required: bool = False
    boost: float = 0.0
    trigger: tuple[str, ...] = ()
    digits: bool = True
    group: int = 0
    check: Callable[[str, int, int], bool] | None = None  # (normalised text, start, end): the value in its place
    extent: Callable[[str], int] | None = None  # how many characters of a match are the value (before validate)
    extent_from: int = 0  # a shorter value is whole: ``extent`` is not asked (it would answer its length)
    cluster: tuple[int, int] | None = None  # digits in a separator-joined number the rule needs (fast skip)
    run: tuple[int, int] | None = None  # length of an unbroken digit run the rule needs (fast skip)
    window: tuple[int, int] | None = None  # with trigger words: read only this many chars before/after each
    backscan: re.Pattern[str] | None = None  # with window: a run of these chars before a trigger starts the match
    candidate: str | None = None
    open_ended: bool = False  # the candidate matches how a match begins; the pattern is tried where it starts
    gate: bool = False  # the candidate says only whether to read around the triggers
    at_trigger: bool = False  # the candidate ends where a trigger does; the rule backscans from there
    widest: int | None = None  # the most characters a match attempt reads (None: unbounded); set by _rule
    underscore: bool = False  # an underscore next to a value fences it, as a space would (see _fenced)

    @property
    def caseless(self) -> bool:
        return bool(self.pattern.flags & re.IGNORECASE)


def _not_after(excluded: str, underscore: bool = False) -> str:
    """Candidate syntax for "not preceded by a character of the class ``excluded``": the start of the text
    or one character outside it (matched, so a candidate span may begin one character early); with
    ``underscore``, an underscore as well."""
    return f"(?:^|[^{_ascii_word(excluded)}])" if underscore else f"(?:^|[^{excluded}])"


def _not_before(excluded: str, underscore: bool = False) -> str:
    """Candidate syntax for "not followed by a character of the class ``excluded``" (or an underscore)."""
    return rf"(?:[^{_ascii_word(excluded)}]|\z)" if underscore else rf"(?:[^{excluded}]|\z)"


def _ascii_word(chars: str) -> str:
    """``chars`` with ``\\w`` as ASCII letters and digits: in the skeleton the engine reads, a word character is
    an ASCII letter, digit or underscore, so this is ``\\w`` without ``_``."""
    return chars.replace("\\w", "0-9A-Za-z")


def _rule(entity: str, pattern: str, score: float, flags: int = 0, **options: object) -> Rule:
    return Rule(entity, re.compile(pattern, flags), score, widest=widest(pattern, flags),
                **options)  # type: ignore[arg-type]


def _fenced(entity: str, body: str, score: float, flags: int = 0, *, before: str = r"\w", after: str = r"\w",
            lead: str = "", prefix: str | None = None, underscore: bool = False, prose_dash: bool = False,
            **options: object) -> Rule:
    """A rule for a value that stands apart: not preceded by a character of the class ``before`` nor followed
    by one of ``after``. With ``lead`` (what the value's first character is), the lookbehind is written after
    it — the same meaning, and ``re`` can skip straight to where that character occurs. The candidate is
    derived: the fences are matched characters, and a back-reference ``\\1`` accepts what its group does.
    ``prefix``, when the whole body is costly for the engine (a long repeat), is what the candidate matches
    after the leading fence instead: the beginning every match has. With ``underscore``, an underscore is a
    fence though ``\\w`` counts it a word character: a value that never holds one stands apart from it too
    (``_4111 1111 1111 1111_``, in italics as Markdown writes them, or ``card_4111111111111111``). Without it,
    underscores fence a value only as Markdown's emphasis sets them around one (:func:`_apart_before`): ``_AB
    12 34 56 C_`` and ``__212-555-0142__`` stand apart, ``build_123456789`` is a name. With
    ``prose_dash``, a dash in ``before`` or ``after`` sets the value apart only where digits go on past it
    (``4111 ... 1111-2``): next to a letter, a space or the end it is punctuation (``Visa-4111 1111 1111 1111``,
    ``078-05-1121—thanks``: normalising reads an em or en dash as ``-`` there, and as a space only between a letter
    and a number)."""
    if prose_dash:
        before, after = before.replace("-", ""), after.replace("-", "")
    fore = f"(?<!{_fence(before, True)}{lead})" if underscore else _apart_before(before, lead)
    aft = _fence(after, True) if underscore else _apart_after(after)
    digit_before = f"(?<![0-9]-{lead})" if prose_dash else ""  # (lead: the lookbehind stands after the value's first)
    aft = f"{aft}|-[0-9]" if prose_dash else aft
    pattern = f"{lead}{fore}{digit_before}{body}(?!{aft})"
    group = _GROUP.search(body)
    loose = body.replace("\\1", f"(?:{group.group(1)})") if group is not None else body
    # the candidate takes any underscore for a fence: the pattern tells emphasis from a name
    candidate = _not_after(before, True) + (prefix if prefix is not None else lead + loose + _not_before(after, True))
    return _rule(entity, pattern, score, flags, candidate=candidate, underscore=underscore, **options)


def _fence(chars: str, underscore: bool) -> str:
    """The class of characters ``chars`` as a lookaround reads it; with ``underscore``, ``\\w`` without ``_``."""
    if not underscore:
        return f"[{chars}]"
    rest = chars.replace("\\w", "")
    return f"(?:[^\\W_]|[{rest}])" if rest else "[^\\W_]"


_ALNUM = _fence(r"\w", True)  # a letter or a digit: the fence of a value that never holds an underscore
_EMPHASIS = 3  # underscores Markdown sets around a value: _italic_, __bold__, ___both___


def _apart_before(chars: str, lead: str = "") -> str:
    """Lookbehinds (written after ``lead``, the value's first character, when it is given) for "not preceded by
    a character of ``chars``", where an underscore (a word character to ``\\w``) sets a value apart only as
    Markdown's emphasis does: a run of at most :data:`_EMPHASIS` of them with no letter or digit (nor other
    character of ``chars``) before it. ``_AB 12 34 56 C_`` stands apart; ``build_123456789`` is a name."""
    if "\\w" not in chars:
        return f"(?<![{chars}]{lead})"
    joined = _fence(chars, True)
    runs = "".join(f"(?<!{joined}{'_' * count}{lead})" for count in range(1, _EMPHASIS + 1))
    # (most values follow no word character: the first alternative settles them, in one lookbehind)
    return f"(?:(?<![{chars}]{lead})|(?<=_{lead}){runs}(?<!{'_' * (_EMPHASIS + 1)}{lead}))"


def _apart_after(chars: str) -> str:
    """For a negative lookahead: what joins a value to the text after it, as :func:`_apart_before` reads it."""
    if "\\w" not in chars:
        return f"[{chars}]"
    joined = _fence(chars, True)
    return f"{joined}|_{{1,{_EMPHASIS}}}(?:{joined})|_{{{_EMPHASIS + 1}}}"


_GROUP = re.compile(r"\((?!\?)([^()]*)\)")  # the first capturing group of a pattern without nested groups


def _any_trigger(*triggers: str) -> str:
    """A gate's candidate for "one of ``triggers`` (lower case) occurs", in any case."""
    return "(?i:" + "|".join(re.escape(t) for t in triggers) + ")"


# backscans: the run of characters before a trigger where a match may start (read backwards: one class repeated)
_EMAIL_LOCAL = re.compile(r"[\w.%+-]*")
_HEX_COLON = re.compile(r"[0-9A-Fa-f:]*")
# what introduces a person's name, in any case ("My name is", "MR.", "name:"); the name itself is capitalised
_PERSON_CUES = (r"my name is|i am|i'm|name:|mr\.?|mrs\.?|ms\.?|miss|dr\.?|herr|frau|monsieur|madame|señor|señora|"
                r"signor|signora")
# a title is not a name: "Herr Dr. Karl Meier" names Karl Meier (the cue "Herr" does not take "Dr" for a name)
_TITLES = r"(?:Mr|Mrs|Ms|Miss|Dr|Herr|Frau|Monsieur|Madame|Señor|Señora|Signor|Signora)"
# a word of a name: a capital and letters in any script (McCray, Wiśniewski), joined by a hyphen or an apostrophe
# before a capital (Anne-Marie, O'Brien; not the possessive of "Amanda's"), or an initial (P.)
_UPPER = "A-ZÀ-ÖØ-ÞĀ-ž"
_NAME_WORD = rf"[{_UPPER}](?:\.(?= )|(?:[^\W\d_]|-(?=[^\W\d_])|['\u2019](?=[{_UPPER}]))*)"
# capitalised words that go on from a name into an address line ("Mrs. Barbara Yudina Apt. 675")
_NOT_NAMES = r"(?:Apt|Apartment|Suite|Unit|Floor|Room|Street|Avenue|Road|Lane|Drive)"

_STREET_FIRST = (r"Via|Viale|Piazza|Corso|Largo|Vicolo|Rua|Avenida|Avda\.|Travessa|Praça|Calle|Plaza|Paseo|Carrer|"
                 r"Rambla|Rue|Chaussée|Quai|Impasse|Strada|Ulica|ul\.|Odos|Leoforos")
_STREET_FIRST_TRIGGERS = tuple(sorted({w.lower().replace("\\", "") + " " for w in _STREET_FIRST.split("|")}))
# a word of a street's name: capitalised, or one of the particles names take (de, da, del, della, du, des...)
_STREET_NAME_WORD = r"[A-ZÀ-Þ][\w'.-]*|de|da|do|dos|das|del|della|dei|di|du|des|la|le|les|el|los|las"
# (not "ring" or "gate": "During 1971", "Aggregate 3")
_STREET_LAST = (r"straße|strasse|str|gasse|allee|platz|damm|ufer|weg|gatan|gata|vägen|vej|veien|katu|tie|straat|"
                r"laan|gracht|plein")
_STREET_LAST_TRIGGERS = tuple(sorted({w + " " for w in _STREET_LAST.split("|")} | {w + ". " for w in ("str",)}))

# what may stand between a card number's groups besides one space, dot or dash; and what only this allows
_CARD_GAP = r"[ ._/-]{1,3}"
_ODD_GAP = r"(?:[ ._/-]{2,3}|[_/])"

_LABEL = r"[^\W_](?:(?:[^\W_]|-){0,61}[^\W_])?"  # a domain's label: no _, no dash at either end
# a top-level domain, in punycode ("xn--p1ai", tried before one of letters, "xn") or in letters of any script,
# and no letter or digit after it
_TLD = rf"(?:xn--[A-Za-z0-9-]{{2,59}}|[^\W\d_]{{2,24}})(?!{_ALNUM})"
# an address written past harvesters: "jane [at] example [dot] com", "jane(at)example.com", "jane@example[.]com"
# (a bracketed "at" or "@", or a bracketed "dot" or "." after a plain "@"; "at" and "dot" in words alone are prose)
_BRACKETED_AT = r"\s{0,3}[\[({]\s{0,3}(?:at|@)\s{0,3}[\])}]\s{0,3}"
_BRACKETED_DOT = r"\s{0,3}[\[({]\s{0,3}(?:dot|\.)\s{0,3}[\])}]\s{0,3}"

RULES: tuple[Rule, ...] = (
    _rule(
        "EMAIL_ADDRESS",
        # domain labels and the top-level domain in any script (jane@exämple.de), as well as in punycode
        # (a dot before the local part is not its first character: ".jane@example.com" after an ellipsis)
        # a domain holds no _; a dash after it is punctuation (an em dash in prose, read as -): a longer domain
        # the dash could begin ("example.com-mail.org") is matched first, its labels being taken greedily
        rf"(?<![\w%+-])[\w%+-][\w.%+-]{{0,63}}@(?:{_LABEL}\.)+{_TLD}",
        0.95,
        trigger=("@",),
        digits=False,
        window=(64, 260),
        backscan=_EMAIL_LOCAL,
        # the character before ``@`` (a local part's last): a start to track, or the local part's bounded
        # repeat, made the engine read ordinary text twice as slowly
        candidate=r"[\w.%+-]@",
        at_trigger=True,
    ),
    _rule(
        "EMAIL_ADDRESS",
        rf"(?<![\w%+-])[\w%+-][\w.%+-]{{0,63}}(?:{_BRACKETED_AT}(?:{_LABEL}(?:{_BRACKETED_DOT}|\.))+"
        rf"|@(?:{_LABEL}\.)*{_LABEL}{_BRACKETED_DOT}(?:{_LABEL}(?:{_BRACKETED_DOT}|\.))*){_TLD}",
        0.9,
        I,
        trigger=("[", "(", "{"),
        digits=False,
        gate=True,  # (rare: the text is read whole where the engine finds a bracketed "at" or "dot")
        candidate=r"(?i:[\[({] {0,3}(?:at|@|dot|\.) {0,3}[\])}])",
    ),
    _rule(
        "URL_CREDENTIALS",
        _apart_before(r"\w") + r"[a-z][a-z0-9+.-]{1,15}://[^\s/:@]{1,128}:[^\s/@]{1,256}@[^\s/?#]{1,253}",
        0.95,
        I,
        trigger=("://",),
        digits=False,
        window=(20, 700),
        gate=True,
        candidate=_any_trigger("://"),
    ),
    _rule(
        "SECRET",
        _apart_before(r"\w") + r"(?:(?:AKIA|ASIA)[0-9A-Z]{16}|gh[pousr]_[A-Za-z0-9]{36,255}"
        r"|github_pat_[A-Za-z0-9_]{22,255}|sk-(?:proj-|ant-(?:api\d{2}-)?)?[A-Za-z0-9_-]{20,}"
        r"|xox[abposr]-[A-Za-z0-9-]{10,}|AIza[0-9A-Za-z_-]{35}"
        r"|[rs]k_(?:live|test)_[0-9A-Za-z]{16,}|lgk_[a-z0-9-]{1,63}_[A-Za-z0-9_-]{32,}"
        # (a dash after a key is prose's)
        r"|eyJ[A-Za-z0-9_-]{5,}\.eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{10,})(?!" + _apart_after(r"\w") + ")",
        0.95,
        trigger=("akia", "asia", "gh", "sk-", "xox", "aiza", "k_live_", "k_test_", "lgk_", "eyj"),
        digits=False,
        candidate=_not_after(r"\w", True) + r"(?:AKIA|ASIA|gh[pousr]_|github_pat_|sk-|xox[abposr]-|AIza"
        r"|[rs]k_(?:live|test)_|lgk_|eyJ)",
        open_ended=True,
    ),
    _rule(
        "SECRET",
        r"-----BEGIN [A-Z ]{0,20}PRIVATE KEY-----[A-Za-z0-9+/=\s:,-]{0,16384}?-----END [A-Z ]{0,20}"
        r"PRIVATE KEY-----",
        0.99,
        trigger=("private key",),
        digits=False,
        gate=True,
        candidate=_any_trigger("private key"),
    ),
    _rule(
        "IP_ADDRESS",
        # an underscore next to it is a fence (``_10.0.0.1_``: italics in Markdown)
        rf"[0-9](?<!(?:{_ALNUM}|\.)[0-9])[0-9]{{0,2}}\.[0-9]{{1,3}}\.[0-9]{{1,3}}\.[0-9]{{1,3}}"
        rf"(?!{_ALNUM}|\.\d)",
        0.9,
        validate=v.ipv4,
        trigger=(".",),
        cluster=(4, 12),
        candidate=_not_after(r"\w.", True) + r"[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3}"
        + _not_before(r"\w", True),
        underscore=True,
    ),
    _rule(
        "IP_ADDRESS",
        # a colon after it and then a space or the end is prose's ("connect to 2001:db8::1: refused"); an address
        # never ends in one colon after a group
        r"(?<![\w:])(?:[0-9A-Fa-f]{0,4}:){2,7}(?:(?:\d{1,3}\.){3}\d{1,3}|[0-9A-Fa-f]{1,4})?"
        r"(?:%[A-Za-z0-9]{1,16})?(?<![0-9A-Fa-f]:)(?!\w|:[\w:]|\.\w)",
        0.9,
        validate=v.ip_address,
        trigger=(":",),
        digits=False,
        window=(39, 60),
        backscan=_HEX_COLON,
        # no leading fence: with one, the engine reads ordinary text about eight times slower
        candidate=r"(?:[0-9A-Fa-f]{0,4}:){2,7}(?:(?:\d{1,3}\.){3}\d{1,3}|[0-9A-Fa-f]{1,4})?(?:%[A-Za-z0-9]{1,16})?"
        + _not_before(r"\w:"),
    ),
    # grouped digits (4-4-4-1..7, or Amex's 4-6-4..5), one space, dot or dash between groups, mixed or not; the same
    # digits ungrouped are a rule below (one rule per shape: each reads its spans)
    _fenced("CREDIT_CARD", r"[0-9]{3}[ .-]\d{4}[ .-]\d{4}[ .-]\d{1,7}", 0.9, lead="[0-9]", before=r"\w+-",
            after=r"\w-", validate=v.credit_card, underscore=True, prose_dash=True, cluster=(12, 19)),
    _fenced("CREDIT_CARD", r"[0-9]{3}[ .-]\d{6}[ .-]\d{4,5}", 0.9, lead="[0-9]", before=r"\w+-", after=r"\w-",
            validate=v.credit_card, underscore=True, prose_dash=True, cluster=(14, 15)),  # Amex
    # the same shapes with up to three of space, dot, dash, slash and underscore between groups ("4111  1111 ...",
    # "4111 - 1111 - ...", "4111_1111_..."), ways of writing a number past filters. A gate: the engine tells only
    # whether a number with such a separator among its first groups occurs (rare), and the rule then reads the
    # text (the rules above find the others). Scored below them: a match of this rule that bridges two numbers
    # standing side by side ("... 1111 1111  4111 1111 ...", the end of one card and the start of the next) must
    # not win over the cards the rules above find whole
    _fenced("CREDIT_CARD", rf"[0-9]{{3}}{_CARD_GAP}(?:\d{{4}}{_CARD_GAP}\d{{4}}{_CARD_GAP}\d{{1,7}}"
            rf"|\d{{6}}{_CARD_GAP}\d{{4,5}})", 0.85, lead="[0-9]", before=r"\w+-", after=r"\w-",
            validate=v.credit_card, underscore=True, prose_dash=True, cluster=(12, 19), gate=True,
            prefix=rf"[0-9]{{4}}(?:{_ODD_GAP}[0-9]{{4}}{_CARD_GAP}[0-9]{{4}}|[ .-][0-9]{{4}}{_ODD_GAP}[0-9]{{4}}"
                   rf"|[ .-][0-9]{{4}}[ .-][0-9]{{4}}{_ODD_GAP}[0-9]|{_ODD_GAP}[0-9]{{6}}{_CARD_GAP}[0-9]{{4}}"
                   rf"|[ .-][0-9]{{6}}{_ODD_GAP}[0-9]{{4}})"),
    _fenced("CREDIT_CARD", r"[0-9]{11,18}", 0.9, lead="[0-9]", before=r"\w+-", after=r"\w-", validate=v.credit_card,
            underscore=True, prose_dash=True, run=(12, 19)),
    # every digit set apart by the same separator ("4 1 1 1 1 1 1 1 ..."), a way of writing a number past filters
    _fenced("CREDIT_CARD", r"([ .-])\d(?:\1\d){10,17}", 0.9, lead="[0-9]", before=r"\w+-", after=r"\w-",
            validate=v.credit_card, underscore=True, prose_dash=True, cluster=(12, 19),
            prefix=r"[0-9](?:[ .-][0-9]){11}"),
    _fenced("IBAN_CODE", r"[A-Za-z]{2}\d{2}(?:[ -]?[A-Za-z0-9]{4}){2,7}(?:[ -]?[A-Za-z0-9]{1,3})?", 0.95,
            validate=v.iban_code, underscore=True, extent=v.iban_extent, run=(2, 34)),
    # the same with up to three of space, dot, dash, slash and underscore between groups, as for card numbers: a
    # gate on such a gap (or a dot) among the first groups, scored below the rule above
    _fenced("IBAN_CODE",
            rf"[A-Za-z]{{2}}\d{{2}}(?:{_CARD_GAP}[A-Za-z0-9]{{4}}){{2,7}}(?:{_CARD_GAP}[A-Za-z0-9]{{1,3}})?", 0.9,
            validate=v.iban_code, underscore=True, extent=v.iban_extent, run=(2, 34), gate=True,
            prefix=rf"[A-Za-z]{{2}}[0-9]{{2}}(?:[ -]?[A-Za-z0-9]{{4}}){{0,7}}(?:{_ODD_GAP}|\.)[A-Za-z0-9]"),
    _fenced("US_SSN", r"[0-9]{2}([- .])\d{2}\1\d{4}", 0.85, lead="[0-9]", before=r"\w-", after=r"\w-",
            validate=v.us_ssn, underscore=True, prose_dash=True, cluster=(9, 9)),
    # the same run of up to three separators in both gaps ("078 - 05 - 1121", "078_05_1121"); a gate, as above
    _fenced("US_SSN", rf"[0-9]{{2}}({_CARD_GAP})\d{{2}}\1\d{{4}}", 0.8, lead="[0-9]", before=r"\w-", after=r"\w-",
            validate=v.us_ssn_digits, underscore=True, prose_dash=True, cluster=(9, 9), gate=True,
            prefix=rf"[0-9]{{3}}{_ODD_GAP}[0-9]{{2}}{_ODD_GAP}[0-9]{{4}}"),
    _fenced("US_SSN", r"(?:[0-9]{2}-[0-9]{6}|[0-9]{4}-[0-9]{4})", 0.6, lead="[0-9]", before=r"\w-", after=r"\w-",
            validate=v.us_ssn, cluster=(9, 9)),
    _fenced("US_SSN", r"[0-9]{8}", 0.4, lead="[0-9]", before=r"\w-", after=r"\w-", validate=v.us_ssn, run=(9, 9)),
    _fenced("US_ITIN", r"\d{2}([- ]?)[5-9]\d\1\d{4}", 0.9, lead="9", before=r"\w-", after=r"\w-", validate=v.us_itin,
            cluster=(9, 9)),
    _fenced("US_ITIN", r"(?:\d{2}-[5-9]\d{5}|\d{2}[5-9]\d-\d{4})", 0.6, lead="9", before=r"\w-", after=r"\w-",
            validate=v.us_itin, cluster=(9, 9)),
    _fenced("UK_NINO", r"[A-Za-z]{2} ?\d{2} ?\d{2} ?\d{2} ?[A-Da-d]", 0.85, validate=v.uk_nino, cluster=(6, 6)),
    _fenced("DE_TAX_ID", r"[0-9] ?\d{3} ?\d{3} ?\d{3}", 0.7, lead="[0-9]", before=r"\w-", after=r"\w-",
            validate=v.de_tax_id, cluster=(11, 11)),
    _fenced("FR_NIR", r" ?\d{2} ?\d{2} ?(?:\d{2}|2[ABab]) ?\d{3} ?\d{3} ?\d{2}", 0.85, lead="[12]", validate=v.fr_nir,
            cluster=(13, 15)),
    _fenced("ES_DNI", r"[0-9]{6,7}[- ]?[A-Za-z]", 0.8, lead="[0-9]", validate=v.es_dni, run=(7, 8)),
    _fenced("ES_NIE", r"[XYZxyz][- ]?\d{7}[- ]?[A-Za-z]", 0.85, validate=v.es_nie, run=(7, 7)),
    _fenced("IT_FISCAL_CODE", r"[A-Za-z]{6}[0-9LMNP-Vlmnp-v]{2}[A-Za-z][0-9LMNP-Vlmnp-v]{2}[A-Za-z][0-9LMNP-Vlmnp-v]{3}"
            r"[A-Za-z]", 0.9, validate=v.it_fiscal_code, run=(2, 3)),
    _fenced("NL_BSN", r"(?:[0-9]{8}|[0-9]{3}[. ][0-9]{2}[. ][0-9]{3})", 0.85, lead="[0-9]", before=r"\w-", after=r"\w-",
            validate=v.nl_bsn, context="NL_BSN", required=True, cluster=(9, 9)),
    _fenced("PASSPORT", r"[A-Za-z]{2}\d{7}", 0.4, context="PASSPORT", boost=0.45, run=(7, 7)),
    _fenced("PASSPORT", r"[A-Za-z]{3}\d{6}", 0.4, context="PASSPORT", boost=0.45, run=(6, 6)),
    _fenced("PASSPORT", r"[A-Za-z]\d{8}", 0.4, context="PASSPORT", boost=0.55, run=(8, 8)),
    _fenced("PASSPORT", r"(?:\d{9}|\d{2}[A-Za-z]{2}\d{5}|[CFGHJKLMNPRTVWXYZcfghjklmnprtvwxyz]"
            r"[CFGHJKLMNPRTVWXYZ0-9cfghjklmnprtvwxyz]{8})", 0.95, context="PASSPORT", required=True, run=(1, 9)),
    _fenced("DATE_OF_BIRTH", r"(?:\d{1,2}[./-]\d{1,2}[./-](?:19|20)?\d{2}|(?:19|20)\d{2}-\d{2}-\d{2}"
            rf"|\d{{1,2}}\.? {_MONTHS}\.? (?:19|20)\d{{2}}|{_MONTHS}\.? \d{{1,2}}(?:st|nd|rd|th)?,? (?:19|20)\d{{2}})",
            0.85, I, context="DATE_OF_BIRTH", required=True, run=(1, 4)),
    _rule(
        "PHONE_NUMBER",
        r"[+(0-9]" + _apart_before(r"\w+-", "[+(0-9]") + r"(?=[0-9 ().+-]{6})"
        r"(?:(?<=\+)\d{1,3}[ .-]?(?:\(\d{1,5}\)[ .-]?)?|(?<=\()\d{1,5}\)[ .-]?|)"
        # digits taken possessively: what follows a run of digits never starts with one, so giving some back
        # cannot make a match (it only made a long run of digits, a card number, cost a retry per digit)
        # grouped by hyphens or dots, a number ends at a space before more digits (a second number, a count:
        # "212-555-0142 212-555-0199"); read on across it, the pair failed the check and neither was found.
        # Up to seven more groups: with five, a match from a four-group number stopped inside the number after
        # it ("4111 1111 1111 1111 212-555", refused), which no cut (phone_extent) could then set apart
        r"(?:[0-9]{0,12}+(?:[.-][0-9]{1,8}+){2,5}+(?= [0-9])|[0-9]{0,12}+(?:[ .-][0-9]{1,8}+){0,7})"
        r"(?:\s?(?:x|ext\.?)\s?[0-9]{1,6}+)?(?!" + _apart_after(r"\w") + ")",
        0.5,
        validate=v.phone,
        context="PHONE_NUMBER",
        boost=0.2,
        check=v.phone_in_place,
        extent=v.phone_extent,
        extent_from=v.PHONE_CUT_FROM,
        cluster=(7, 15),
        # where a number can start: its first character and the six the lookahead asks for (one report per
        # start; the whole number's shape reported each place a group of digits ends, several per number)
        candidate=_not_after(r"\w+-", True) + r"[+(0-9][0-9 ().+-]{6}",
        open_ended=True,
    ),
    # a national number whose area code is set off by a slash (030/1234567, 089 / 12 34 56: German usage)
    _fenced("PHONE_NUMBER", r"[1-9]\d{1,4} ?/ ?\d{2,8}(?:[ -]\d{2,8}){0,3}", 0.5, lead="0", before=r"\w+/-",
            after=r"\w/", validate=v.phone, context="PHONE_NUMBER", boost=0.2, check=v.slashed_phone_in_place),
    # healthcare_mode
    _fenced("UK_NHS", r"[0-9]{2}([- ]?)\d{3}\1\d{4}", 0.75, lead="[0-9]", before=r"\w-", after=r"\w-",
            validate=v.uk_nhs, cluster=(10, 10)),
    _fenced("US_NPI", r"\d{3}([- ]?)\d{3}\1\d{3}", 0.8, lead="[12]", before=r"\w-", after=r"\w-", validate=v.us_npi,
            cluster=(10, 10)),
    _rule(
        "MEDICAL_RECORD_NUMBER",
        r"(?:mrn|medical record(?: number| no\.?)?|patient (?:id|number)|chart number|"
        r"patientennummer|fallnummer)\s{0,3}[:#]?\s{0,3}([A-Za-z]{0,3}[-]?\d[\dA-Za-z-]{3,15})(?![\w])",
        0.85,
        I,
        group=1,
        trigger=("mrn", "medical record", "patient", "chart number", "fallnummer"),
        window=(0, 60),
        gate=True,
        candidate=_any_trigger("mrn", "medical record", "patient", "chart number", "fallnummer"),
    ),
    # pci_mode
    _fenced("CARD_EXPIRY", r"(?:0[1-9]|1[0-2]) ?/ ?(?:20)?\d{2}", 0.85, before=r"\w/", after=r"\w/",
            context="CARD_EXPIRY", required=True, run=(2, 4)),
    _rule(
        "CARD_CVV",
        r"(?:cvv2?|cvc2?|cid|security code)\W{0,3}(\d{3,4})(?![\w])",
        0.9,
        I,
        group=1,
        trigger=("cvv", "cvc", "cid", "security code"),
        window=(0, 24),
        gate=True,
        candidate=_any_trigger("cvv", "cvc", "cid", "security code"),
    ),
    # light context-based persons and addresses (the NER backend is optional)
    _rule(
        "PERSON",
        rf"(?:\b(?i:{_PERSON_CUES}) )(?!{_TITLES}\b)({_NAME_WORD}(?: (?!{_NOT_NAMES}\b){_NAME_WORD}){{0,2}})",
        0.6,
        digits=False,
        group=1,
        trigger=(
            "name",
            "i am",
            "i'm",
            "mr",
            "ms",
            "miss",
            "dr",
            "herr",
            "frau",
            "monsieur",
            "madame",
            "señor",
            "señora",
            "signor",
        ),
        window=(4, 80),
        candidate=_not_after(r"\w") + rf"(?i:{_PERSON_CUES}) [A-Z]",
        open_ended=True,
    ),
    _rule(
        "STREET_ADDRESS",
        r"\b\d{1,5}[A-Za-z]?,? (?:[A-Z][\w'.-]*\.? ){0,3}(?:Street|St\.|Avenue|Ave\.?|Road|Rd\.|"
        r"Boulevard|Blvd\.?|Lane|Ln\.|Drive|Dr\.|Way|Court|Ct\.|Place|Pl\.|Square|Sq\.|Terrace|Parkway|Highway|"
        r"Straße|Strasse|Str\.|Weg|Allee|Platz|Gasse)(?![\w])",
        0.6,
        run=(1, 5),
        trigger=(
            "street",
            "st.",
            "avenue",
            "ave",
            "road",
            "rd.",
            "boulevard",
            "blvd",
            "lane",
            "ln.",
            "drive",
            "dr.",
            "way",
            "court",
            "ct.",
            "place",
            "pl.",
            "square",
            "sq.",
            "terrace",
            "parkway",
            "highway",
            "straße",
            "strasse",
            "str.",
            "weg",
            "allee",
            "platz",
            "gasse",
        ),
        window=(90, 12),
        # a gate: with where each candidate starts tracked, the engine read ordinary text ten times slower
        gate=True,
        candidate=r"\d{1,5}[A-Za-z]?,? (?:[A-Z][\w'.-]*\.? ){0,3}(?:Street|St\.|Avenue|Ave\.?|Road|Rd\.|Boulevard|"
        r"Blvd\.?|Lane|Ln\.|Drive|Dr\.|Way|Court|Ct\.|Place|Pl\.|Square|Sq\.|Terrace|Parkway|Highway|Straße|"
        r"Strasse|Str\.|Weg|Allee|Platz|Gasse)" + _not_before(r"\w"),
    ),
    # the street named first and the number after it, as most of Europe writes it ("Via Roma 131", "Rue de
    # Virton 38"), and compounds that end in their street word ("Friedhofstrasse 33", "Kiannonkatu 98")
    _rule(
        "STREET_ADDRESS",
        rf"\b(?:{_STREET_FIRST}) (?:{_STREET_NAME_WORD})(?: (?:{_STREET_NAME_WORD})){{0,4}} \d{{1,5}}[A-Za-z]?(?![\w])",
        0.6,
        trigger=_STREET_FIRST_TRIGGERS,
        window=(0, 90),
        candidate=_not_after(r"\w") + rf"(?:{_STREET_FIRST}) ",
        open_ended=True,
    ),
    _rule(
        "STREET_ADDRESS",
        rf"\b(?:[A-ZÀ-Þ][\w-]{{0,40}} )?[A-ZÀ-Þ][\w-]{{0,40}}(?:{_STREET_LAST})\.? \d{{1,5}}[A-Za-z]?(?![\w])",
        0.6,
        trigger=_STREET_LAST_TRIGGERS,
        window=(90, 12),
        # a gate on the street word and the number (the words before it cost the engine more than reading
        # around the triggers of the few texts that have one)
        gate=True,
        candidate=rf"[A-Za-z](?:{_STREET_LAST})\.? \d{{1,5}}[A-Za-z]?" + _not_before(r"\w"),
    ),
)
