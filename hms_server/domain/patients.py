"""Patient rules: name normalisation, search-query reading, duplicate-likelihood scoring,
validation of dates and identifiers. Pure Python: no SQL, no HTTP.

Duplicate policy (what the registration desk is warned about)
------------------------------------------------------------
A new registration is a *likely duplicate* of an existing patient when one of these holds:

1. the same national ID (after removing spaces/dashes, ignoring case) — on its own;
2. the same date of birth **and** a similar name: both the given and the family name are
   similar (trigram similarity ≥ 0.5, one typo or swapped pair of letters in a name of 5+
   letters, or one is a prefix of the other such as "Jo"/"Jose"), or given and family names
   are swapped;
3. the same phone number **and** a similar name, as in 2.

Same phone or same date of birth alone is *not* enough: families share a phone, twins share a
birthday and a family name, and thousands of patients share any given birthday. A birth date
that is only estimated (from an age) matches birth dates within ±2 years.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from datetime import date

from hms_server.domain.errors import ConflictError
from hms_server.domain.hospital import age_on  # noqa: F401  (the one age rule, re-exported)

SEX_CODES = ("male", "female", "other", "unknown")
MAX_AGE_YEARS = 130
NAME_SIMILARITY = 0.5
ESTIMATED_DOB_TOLERANCE_YEARS = 2
MIN_SUBSTRING = 3  # pg_trgm cannot use its index for shorter substrings

_SPACES = re.compile(r"\s+")
_PHONE_CHARS = re.compile(r"^\+?[0-9 ()\-./]+$")
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_NATIONAL_ID_STRIP = re.compile(r"[^0-9A-Za-z]")


def clean_name(value: str) -> str:
    """A name as stored: NFC, surrounding space removed, inner runs of space collapsed."""
    return _SPACES.sub(" ", unicodedata.normalize("NFC", value)).strip()


def fold(value: str) -> str:
    """Accent- and case-insensitive form, the Python twin of SQL ``lower(hms_unaccent(x))``."""
    decomposed = unicodedata.normalize("NFKD", value)
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    # Letters unaccent maps but NFKD does not decompose.
    stripped = stripped.translate(_EXTRA_FOLDS)
    return _SPACES.sub(" ", stripped.lower()).strip()


_EXTRA_FOLDS = str.maketrans(
    {
        "ß": "ss",
        "ø": "o",
        "Ø": "O",
        "æ": "ae",
        "Æ": "AE",
        "œ": "oe",
        "Œ": "OE",
        "đ": "d",
        "Đ": "D",
        "ł": "l",
        "Ł": "L",
        "ı": "i",
        "þ": "th",
        "Þ": "TH",
        "ð": "d",
        "Ð": "D",
    }
)


def phone_digits(phone: str | None) -> str | None:
    if not phone:
        return None
    digits = re.sub(r"\D", "", phone)
    return digits or None


def is_phone_like(text: str) -> bool:
    return bool(_PHONE_CHARS.match(text.strip())) and len(re.sub(r"\D", "", text)) >= 6


def normalize_national_id(value: str | None) -> str | None:
    if not value:
        return None
    return _NATIONAL_ID_STRIP.sub("", value).upper() or None


def estimated_birth_date(age_years: int, today: date) -> date:
    """Birth date for a stated age: the same day ``age_years`` ago (29 Feb → 28 Feb)."""
    if not 0 <= age_years <= MAX_AGE_YEARS:
        raise ValueError(f"age must be between 0 and {MAX_AGE_YEARS} years")
    year = today.year - age_years
    try:
        return today.replace(year=year)
    except ValueError:
        return date(year, 2, 28)


def birth_date_problem(dob: date, today: date) -> str | None:
    """Why a birth date is impossible, or None."""
    if dob > today:
        return "date of birth is in the future"
    if dob.year < today.year - MAX_AGE_YEARS:
        return f"date of birth is more than {MAX_AGE_YEARS} years ago"
    return None


# --- trigram similarity (same algorithm as pg_trgm, so the desk sees what SQL would) ---


def trigrams(text: str) -> set[str]:
    grams: set[str] = set()
    for word in re.findall(r"\w+", fold(text)):
        padded = f"  {word} "
        grams.update(padded[i : i + 3] for i in range(len(padded) - 2))
    return grams


def similarity(a: str, b: str) -> float:
    ta, tb = trigrams(a), trigrams(b)
    if not ta or not tb:
        return 0.0
    return len(ta & tb) / len(ta | tb)


def edit_distance(a: str, b: str) -> int:
    """Optimal-string-alignment distance: insertions, deletions, substitutions and swaps of
    neighbouring characters each cost 1."""
    prev2: list[int] = []
    prev = list(range(len(b) + 1))
    for i in range(1, len(a) + 1):
        cur = [i] + [0] * len(b)
        for j in range(1, len(b) + 1):
            cost = 0 if a[i - 1] == b[j - 1] else 1
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost)
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                cur[j] = min(cur[j], prev2[j - 2] + 1)
        prev2, prev = prev, cur
    return prev[len(b)]


def _names_close(a: str, b: str) -> bool:
    fa, fb = fold(a), fold(b)
    if not fa or not fb:
        return False
    if fa == fb or similarity(fa, fb) >= NAME_SIMILARITY:
        return True
    # One slip of the keyboard in a longer name ("Schnieder"): trigrams miss transpositions.
    if min(len(fa), len(fb)) >= 5 and edit_distance(fa, fb) <= 1:
        return True
    # "Jo" vs "Jose", "Ann" vs "Ann-Marie": a short form typed at a busy desk.
    first_a, first_b = fa.split(" ")[0], fb.split(" ")[0]
    short, long_ = sorted((first_a, first_b), key=len)
    return len(short) >= 2 and long_.startswith(short)


@dataclass(frozen=True)
class PersonKey:
    """The facts duplicate detection compares."""

    given_name: str
    family_name: str
    date_of_birth: date
    birth_date_estimated: bool = False
    phone: str | None = None
    national_id: str | None = None


@dataclass(frozen=True)
class DuplicateAssessment:
    score: float
    reasons: tuple[str, ...] = field(default_factory=tuple)

    @property
    def likely(self) -> bool:
        return self.score >= 0.5


def _dob_matches(new: PersonKey, old: PersonKey) -> bool:
    if new.birth_date_estimated or old.birth_date_estimated:
        return abs(new.date_of_birth.year - old.date_of_birth.year) <= ESTIMATED_DOB_TOLERANCE_YEARS
    return new.date_of_birth == old.date_of_birth


def assess_duplicate(new: PersonKey, old: PersonKey) -> DuplicateAssessment:
    """How likely ``old`` is the same person as ``new`` (see the module docstring)."""
    reasons: list[str] = []
    score = 0.0
    nid_new, nid_old = (
        normalize_national_id(new.national_id),
        normalize_national_id(old.national_id),
    )
    if nid_new and nid_new == nid_old:
        reasons.append("same_national_id")
        score = 1.0
    names_similar = _names_close(new.given_name, old.given_name) and _names_close(
        new.family_name, old.family_name
    )
    names_swapped = _names_close(new.given_name, old.family_name) and _names_close(
        new.family_name, old.given_name
    )
    if names_similar or names_swapped:
        if _dob_matches(new, old):
            reasons.append(
                "same_birth_date_similar_name"
                if not names_swapped or names_similar
                else "same_birth_date_swapped_name"
            )
            score = max(
                score, 0.9 if not (new.birth_date_estimated or old.birth_date_estimated) else 0.6
            )
        p_new, p_old = phone_digits(new.phone), phone_digits(old.phone)
        if p_new and p_new == p_old:
            reasons.append("same_phone_similar_name")
            score = max(score, 0.8)
        if len(reasons) > 1:
            score = min(1.0, score + 0.05)
    return DuplicateAssessment(score=round(score, 2), reasons=tuple(reasons))


def confident_match(new: PersonKey, old: PersonKey) -> bool:
    """Sure enough to act without a person looking: the same given and family name (after
    folding accents, case and spaces), the same exact date of birth (neither estimated) and
    the same phone number. Self-booking attaches a booking to such a record instead of
    registering the patient a second time; anything less certain is only flagged."""
    if new.birth_date_estimated or old.birth_date_estimated:
        return False
    if new.date_of_birth != old.date_of_birth:
        return False
    p_new, p_old = phone_digits(new.phone), phone_digits(old.phone)
    if not p_new or p_new != p_old:
        return False
    return fold(new.given_name) == fold(old.given_name) and fold(new.family_name) == fold(
        old.family_name
    )


# --- reading a search box ---


@dataclass(frozen=True)
class SearchTerms:
    """What a free-text patient search may mean: name, phone, national ID and MRN readings
    are alternatives (OR); a birth date narrows them (AND), or stands alone."""

    name_tokens: tuple[str, ...] = ()  # as typed; all must match (AND)
    prefix_only: bool = False  # 1-2 character name: prefix of given or family name
    birth_date: date | None = None
    phone: str | None = None  # digits
    national_id: str | None = None  # normalised
    raw_mrn: str | None = None  # the text to read as an MRN

    @property
    def empty(self) -> bool:
        return not (
            self.name_tokens or self.birth_date or self.phone or self.national_id or self.raw_mrn
        )


def parse_search(text: str) -> SearchTerms:
    """Classify what the clerk typed. A date is ISO (YYYY-MM-DD) and may come with a name:
    "müller 1980-02-03" means that name born on that day."""
    q = clean_name(text)
    if not q:
        return SearchTerms()
    birth: date | None = None
    rest: list[str] = []
    for token in q.split(" "):
        if _ISO_DATE.match(token):
            try:
                birth = date.fromisoformat(token)
                continue
            except ValueError:
                pass
        rest.append(token)
    rest_text = " ".join(rest)
    phone = phone_digits(rest_text) if rest_text and is_phone_like(rest_text) else None
    compact = re.sub(r"[\s\-./]", "", rest_text)
    national = normalize_national_id(rest_text) if len(compact) >= 3 and compact.isalnum() else None
    raw_mrn = (
        rest_text if compact and compact.isalnum() and any(c.isdigit() for c in compact) else None
    )
    # A word with a letter may be a name even if it also reads as an MRN or national ID
    # ("Test-12345678"): the readings are alternatives, so nothing is lost.
    tokens = tuple(t for t in rest if any(c.isalpha() for c in t) and fold(t))
    prefix_only = bool(tokens) and all(len(fold(t)) < MIN_SUBSTRING for t in tokens)
    return SearchTerms(
        name_tokens=tokens,
        prefix_only=prefix_only,
        birth_date=birth,
        phone=phone,
        national_id=national,
        raw_mrn=raw_mrn,
    )


def like_escape(text: str) -> str:
    """Escape LIKE wildcards so user text matches literally (escape char: backslash)."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


# --- errors ---


class PossibleDuplicatesError(ConflictError):
    """Registration looks like a patient we already have; resend with ``confirm_new``."""

    code, title = "possible_duplicates", "Possible duplicate patient"


class PatientMergedError(ConflictError):
    """The record was merged into another one and can no longer be changed."""

    code, title = "patient_merged", "Patient record merged"


class MergePendingError(ConflictError):
    """One of the records is already on a merge that waits for confirmation."""

    code, title = "merge_pending", "A merge is waiting for confirmation"
