"""The fixed train/test split of the SpamAssassin corpus (``../shared/corpora/mail``), shared
by the shipped model, the accuracy benchmark and the tests.

Each file name carries the MD5 of the original message ("spam-2-00017.<md5>.eml"). A message
is in the training part when the first 8 hex digits of that MD5, read as an integer, are
below 70 modulo 100: about 70 % train, 30 % test, the same on every machine, and copies of
one message (same MD5, e.g. in two groups) always on the same side. The shipped model is
trained on the training part only, so the test part stays unseen by it.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from importlib.resources import files
from pathlib import Path

TRAINING_PERCENT = 70


CORPUS = Path("shared") / "corpora" / "mail" / "spamassassin"


def default_root() -> Path:
    """The SpamAssassin corpus: ``OPERATEUR_MAIL_CORPUS`` when set, else ``shared/corpora``
    beside the checkout (``<repo>/../shared``), else on this platform's shared volume
    (``/work/shared``), so a clone made elsewhere (CI) still finds it."""
    configured = os.environ.get("OPERATEUR_MAIL_CORPUS")
    if configured:
        return Path(configured)
    beside = Path(__file__).resolve().parents[4] / CORPUS
    return beside if beside.is_dir() else Path("/work") / CORPUS


def supplement_ham() -> list[Path]:
    """French business mail (quotes, invoices, meetings, support, HR…) written for the
    classifier and shipped in the package: the SpamAssassin corpus holds no French ham, and
    without these the model read ordinary French business mail as spam. Training ham only:
    never part of an evaluation."""
    directory = Path(str(files("operateur.mail.filter").joinpath("data", "ham-fr")))
    return sorted(directory.glob("*.eml"))


def is_training(path: Path) -> bool:
    digest = path.name.split(".")[1]
    return int(digest[:8], 16) % 100 < TRAINING_PERCENT


@dataclass(frozen=True)
class Split:
    train_ham: list[Path]
    train_spam: list[Path]
    test_ham: list[Path]
    test_spam: list[Path]


def split(root: Path | None = None) -> Split:
    base = root or default_root()
    ham = sorted((base / "ham").glob("*.eml"))
    spam = sorted((base / "spam").glob("*.eml"))
    return Split(
        train_ham=[p for p in ham if is_training(p)],
        train_spam=[p for p in spam if is_training(p)],
        test_ham=[p for p in ham if not is_training(p)],
        test_spam=[p for p in spam if not is_training(p)],
    )
