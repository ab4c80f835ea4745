"""Use cases of the catalogue: read offer templates and negotiate their terms.

The built-in templates are the YAML files of ``operateur/catalog/offers/``, found through
``importlib.resources`` so that they work from an installed package, parsed on first use and then
cached. Every refusal is an ``InvalidInput`` whose ``field`` is the dotted path of the faulty
value (``terms.billing.payment_term_days``) and whose message names it with the reason.
"""

from __future__ import annotations

import copy
import functools
import os
from collections.abc import Hashable, Mapping
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError
from pydantic_core import ErrorDetails

from operateur.catalog.terms import LATE_INTEREST_KINDS, ContractTerms, OfferTemplate
from operateur.errors import InvalidInput, NotFound
from operateur.i18n import Text

OFFERS_PACKAGE = "operateur.catalog.offers"

_TEMPLATE = Text(fr="Modèle d'offre {source}", en="Offer template {source}")
_OVERRIDES = Text(fr="Dérogations", en="Overrides")

# French reasons for pydantic's own error types; the English reason is pydantic's message.
_FRENCH_REASONS: dict[str, str] = {
    "missing": "champ obligatoire manquant",
    "extra_forbidden": "clé inconnue",
    "greater_than": "doit être supérieur à {gt}",
    "greater_than_equal": "doit être supérieur ou égal à {ge}",
    "less_than": "doit être inférieur à {lt}",
    "less_than_equal": "doit être inférieur ou égal à {le}",
    "int_type": "doit être un nombre entier",
    "int_parsing": "doit être un nombre entier",
    "int_from_float": "doit être un nombre entier",
    "decimal_type": 'doit être un nombre décimal écrit en chaîne, par exemple "12.50"',
    "decimal_parsing": 'doit être un nombre décimal écrit en chaîne, par exemple "12.50"',
    "decimal_max_places": "au plus {decimal_places} décimales",
    "decimal_max_digits": "au plus {max_digits} chiffres",
    "finite_number": "doit être un nombre fini",
    "bool_type": "doit être vrai ou faux",
    "bool_parsing": "doit être vrai ou faux",
    "string_type": "doit être une chaîne de caractères",
    "string_too_short": "doit contenir au moins {min_length} caractère(s)",
    "string_too_long": "doit contenir au plus {max_length} caractères",
    "string_pattern_mismatch": "format invalide (motif attendu : {pattern})",
    "enum": "valeur non permise ; valeurs possibles : {expected}",
    "literal_error": "valeur non permise ; valeurs possibles : {expected}",
    "union_tag_invalid": "type {tag} inconnu ; types possibles : {expected_tags}",
    "union_tag_not_found": "le champ {discriminator} est obligatoire",
    "model_type": "doit être un objet (clés et valeurs)",
    "model_attributes_type": "doit être un objet (clés et valeurs)",
    "dict_type": "doit être un objet (clés et valeurs)",
    "tuple_type": "doit être une liste",
    "list_type": "doit être une liste",
    "too_short": "doit contenir au moins {min_length} élément(s)",
    "too_long": "doit contenir au plus {max_length} élément(s)",
    "time_type": 'doit être une heure, par exemple "08:00"',
    "time_parsing": 'doit être une heure, par exemple "08:00"',
}


# --------------------------------------------------------------------------------------------
# Errors
# --------------------------------------------------------------------------------------------


def _path(error: ErrorDetails, prefix: tuple[str, ...]) -> str:
    """The dotted path of the faulty value, without the late-payment union's tag."""
    parts = [*prefix]
    for item in error["loc"]:
        if isinstance(item, str) and item in LATE_INTEREST_KINDS:
            continue
        parts.append(str(item))
    extra = (error.get("ctx") or {}).get("field")
    if isinstance(extra, str) and extra:
        parts.extend(extra.split("."))
    return ".".join(parts)


def _reasons(error: ErrorDetails) -> tuple[str, str]:
    """(French, English) reason of one pydantic error."""
    ctx = error.get("ctx") or {}
    if "fr" in ctx and "en" in ctx:
        return str(ctx["fr"]), str(ctx["en"])
    template = _FRENCH_REASONS.get(error["type"])
    french = error["msg"]
    if template is not None:
        try:
            french = template.format(**ctx)
        except (KeyError, IndexError):
            french = template
    return french, error["msg"]


def _invalid(
    exc: ValidationError, *, label: Text, source: str, prefix: tuple[str, ...]
) -> InvalidInput:
    """One ``InvalidInput`` for a failed validation: the first error named, every error listed.

    ``label`` says what was refused (it may use ``{source}``).
    """
    errors = []
    for error in exc.errors(include_url=False):
        fr, en = _reasons(error)
        errors.append({"field": _path(error, prefix), "reason_fr": fr, "reason_en": en})
    first = errors[0]
    return InvalidInput(
        Text(
            fr=label.fr + " : {field} refusé — {reason_fr}",
            en=label.en + ": {field} refused — {reason_en}",
        ),
        field=first["field"],
        details={"source": source, **first, "errors": errors},
    )


# --------------------------------------------------------------------------------------------
# Reading templates
# --------------------------------------------------------------------------------------------


class _UniqueKeyLoader(yaml.SafeLoader):
    """A YAML loader that refuses a key written twice in one mapping (a silent override)."""


def _construct_mapping(loader: yaml.SafeLoader, node: yaml.MappingNode) -> dict[Hashable, Any]:
    seen: set[Any] = set()
    for key_node, _ in node.value:
        key = loader.construct_object(key_node)
        if not isinstance(key, Hashable):
            continue  # construct_mapping reports an unhashable key itself
        if key in seen:
            raise yaml.constructor.ConstructorError(
                "while constructing a mapping",
                node.start_mark,
                f"found duplicate key {key!r}",
                key_node.start_mark,
            )
        seen.add(key)
    return loader.construct_mapping(node)


_UniqueKeyLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def parse_offer(data: Any, source: str) -> OfferTemplate:
    """Validate a template given as plain data (as read from YAML or JSON)."""
    if not isinstance(data, Mapping):
        raise InvalidInput(
            Text(
                fr="{source} : un modèle d'offre doit être un objet (clés et valeurs)",
                en="{source}: an offer template must be a mapping of keys to values",
            ),
            details={"source": source},
        )
    try:
        return OfferTemplate.model_validate(data)
    except ValidationError as exc:
        raise _invalid(exc, label=_TEMPLATE, source=source, prefix=()) from None


def load_offer_file(path: str | os.PathLike[str] | Traversable) -> OfferTemplate:
    """Read and validate one YAML offer template."""
    file: Traversable = Path(path) if isinstance(path, (str, os.PathLike)) else path
    source = str(path) if isinstance(path, (str, os.PathLike)) else file.name
    try:
        text = file.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise NotFound(
            Text(fr="Fichier d'offre introuvable : {source}", en="Offer file not found: {source}"),
            field="path",
            details={"source": source},
        ) from None
    try:
        data = yaml.load(text, Loader=_UniqueKeyLoader)
    except yaml.YAMLError as exc:
        raise InvalidInput(
            Text(
                fr="{source} : YAML illisible — {reason}",
                en="{source}: unreadable YAML — {reason}",
            ),
            details={"source": source, "reason": str(exc)},
        ) from None
    return parse_offer(data, source)


@functools.lru_cache(maxsize=1)
def _builtin_offers() -> dict[str, OfferTemplate]:
    """The built-in templates by id, parsed on first use (never at import)."""
    offers: dict[str, OfferTemplate] = {}
    folder = resources.files(OFFERS_PACKAGE)
    for entry in sorted(folder.iterdir(), key=lambda item: item.name):
        if not entry.name.endswith(".yaml"):
            continue
        offer = load_offer_file(entry)
        expected = entry.name.removesuffix(".yaml")
        if offer.id != expected or offer.id in offers:
            raise InvalidInput(
                Text(
                    fr="{source} : l'identifiant {offer_id} doit être unique et égal au nom "
                    "du fichier",
                    en="{source}: the id {offer_id} must be unique and match the file name",
                ),
                field="id",
                details={"source": entry.name, "offer_id": offer.id},
            )
        offers[offer.id] = offer
    return offers


def list_offers() -> list[OfferTemplate]:
    """Every built-in offer template, in the order of their seed documents."""
    return sorted(_builtin_offers().values(), key=lambda offer: (offer.seed, offer.id))


def get_offer(offer_id: str) -> OfferTemplate:
    """The built-in template ``offer_id``; raises ``NotFound`` when there is none."""
    offer = _builtin_offers().get(offer_id)
    if offer is None:
        raise NotFound(
            Text(fr="Offre inconnue : {offer_id}", en="Unknown offer: {offer_id}"),
            field="offer_id",
            details={"offer_id": offer_id},
        )
    return offer


# --------------------------------------------------------------------------------------------
# Negotiated overrides
# --------------------------------------------------------------------------------------------


def _merge(base: dict[str, Any], overrides: Mapping[Any, Any]) -> dict[str, Any]:
    """A new dict: ``overrides`` deep-merged into ``base``; neither argument is changed.

    Mappings merge key by key; any other value (lists included) replaces the old one. A mapping
    with a different ``kind`` (the late-payment union) replaces the old one as a whole.
    """
    merged = dict(base)
    for key, value in overrides.items():
        current = merged.get(key)
        if (
            isinstance(current, dict)
            and isinstance(value, Mapping)
            and value.get("kind", current.get("kind")) == current.get("kind")
        ):
            merged[key] = _merge(current, value)
        else:
            merged[key] = copy.deepcopy(value)
    return merged


def apply_overrides(terms: ContractTerms, overrides: Mapping[str, Any]) -> ContractTerms:
    """A copy of ``terms`` with negotiated ``overrides`` deep-merged, validated as a whole.

    ``{"billing": {"payment_term_days": 45}}`` changes one value; ``None`` removes an optional
    clause. An unknown key or an impossible result raises ``InvalidInput`` naming the field.
    """
    if not isinstance(overrides, Mapping):
        raise InvalidInput(
            Text(
                fr="Les dérogations doivent être un objet (clés et valeurs)",
                en="Overrides must be a mapping of keys to values",
            ),
            field="terms",
        )
    merged = _merge(terms.model_dump(mode="python"), overrides)
    try:
        return ContractTerms.model_validate(merged)
    except ValidationError as exc:
        raise _invalid(exc, label=_OVERRIDES, source="overrides", prefix=("terms",)) from None
