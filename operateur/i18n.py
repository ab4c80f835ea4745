"""User-facing text in French (the default) and English.

Messages are written beside the code that emits them, in both languages, as ``Text`` values::

    raise InvalidInput(Text(fr="Numéro invalide : {number}", en="Invalid number: {number}"),
                       field="number", details={"number": raw})

``render`` fills ``{placeholders}`` from the keyword arguments given to it. The language of a
request comes from ``Accept-Language`` (API, portal) or ``OPERATEUR_LANG`` (CLI).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

Lang = Literal["fr", "en"]
LANGS: tuple[Lang, ...] = ("fr", "en")
DEFAULT_LANG: Lang = "fr"


@dataclass(frozen=True)
class Text:
    """One message in both languages."""

    fr: str
    en: str

    def render(self, lang: str = DEFAULT_LANG, **params: Any) -> str:
        template = self.en if lang == "en" else self.fr
        return template.format(**params) if params else template


def as_text(message: Text | str) -> Text:
    """A plain string (e.g. a library's reason) is shown as is in both languages."""
    return message if isinstance(message, Text) else Text(fr=message, en=message)


def pick_lang(value: str | None) -> Lang:
    """``fr`` or ``en`` from an ``Accept-Language`` header or a setting; French by default."""
    if not value:
        return DEFAULT_LANG
    best: tuple[float, Lang] | None = None
    for part in value.split(","):
        piece = part.strip()
        if not piece:
            continue
        tag, _, q = piece.partition(";q=")
        primary = tag.strip().split("-")[0].lower()
        if primary not in LANGS:
            continue
        try:
            weight = float(q) if q else 1.0
        except ValueError:
            weight = 0.0
        if best is None or weight > best[0]:
            best = (weight, primary)
    return best[1] if best else DEFAULT_LANG
