"""The content classifier: the shipped model on held-out mail, training, the stored format
(MAIL-01 antispam; the rates of MAIL-05 and the SLA of MAIL-06 depend on it)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from operateur.mail.filter import Action, Envelope, Filter, Policy
from operateur.mail.filter.classifier import (
    BLOCK_SIZES,
    BLOCKS,
    DIRECT,
    LIST,
    Model,
    OperatingPoint,
    TrainingOptions,
    fit,
    matrices,
    segment_of,
    shipped_model_path,
    train,
)
from operateur.mail.filter.corpus import split, supplement_ham
from operateur.mail.filter.message import ParsedMessage
from tests.unit.mail_filter.conftest import MessageBuilder


def _blocked(mail_filter: Filter, paths: list[Path], envelope: Envelope, policy: Policy) -> int:
    blocking = (Action.QUARANTINE, Action.REJECT)
    return sum(mail_filter.scan(p.read_bytes(), envelope, policy).action in blocking for p in paths)


def test_shipped_model_on_held_out_mail(
    mail_filter: Filter, policy: Policy, envelope: Envelope
) -> None:
    # SPEC: MAIL-05, MAIL-06 held-out slice (every 4th test message, never trained on):
    # floors well below the benchmark's figures, so a broken model or tokenizer fails here
    corpus = split()
    ham, spam = corpus.test_ham[::4], corpus.test_spam[::4]
    assert len(ham) > 200 and len(spam) > 90
    false_positives = _blocked(mail_filter, ham, envelope, policy)
    false_negatives = len(spam) - _blocked(mail_filter, spam, envelope, policy)
    assert false_positives <= len(ham) * 0.01
    assert false_negatives <= len(spam) * 0.10


def test_training_learns_and_the_stored_model_decides_the_same(tmp_path: Path) -> None:
    # SPEC: MAIL-01 retraining: a small model still separates unseen ham from spam
    corpus = split()
    model = train(
        [p.read_bytes() for p in corpus.train_ham[:150]],
        [p.read_bytes() for p in corpus.train_spam[:150]],
        TrainingOptions(folds=3),
    )
    assert model.info["ham"] == 150 and model.info["spam"] == 150
    # the false-positive budget (0.2 % of 150 ham: none) holds over both kinds of mail
    segments = model.info["segments"]
    assert sum(s["ham"] for s in segments.values()) == 150
    assert model.info["cv_false_positives"] == 0
    path = tmp_path / "m.npz"
    model.save(path)
    loaded = Model.load(path)
    unseen = corpus.test_ham[:40] + corpus.test_spam[:40]
    decisions = [model.decision(ParsedMessage(p.read_bytes())) for p in unseen]
    assert [loaded.decision(ParsedMessage(p.read_bytes())) for p in unseen] == decisions
    right = sum((d >= 0) == (i >= 40) for i, d in enumerate(decisions))
    assert right >= 68  # 85 % of 80 unseen messages on 300 training messages


def test_list_mail_and_direct_mail_have_their_own_operating_point(
    mail_filter: Filter, policy: Policy, envelope: Envelope, message: MessageBuilder
) -> None:
    # SPEC: MAIL-05, MAIL-06 the shipped model was given one threshold for mail through a
    # mailing-list manager and one for direct mail, within one false-positive budget
    model = mail_filter.model
    assert set(model.points) == {LIST, DIRECT}
    assert model.points[LIST].threshold != model.points[DIRECT].threshold
    assert model.info["cv_false_positives"] <= 0.002 * model.info["ham"]
    direct = message()
    listed = b"List-Id: Compta <compta.lists.partenaire.fr>\r\n" + direct
    assert segment_of(ParsedMessage(direct)) == DIRECT
    assert segment_of(ParsedMessage(listed)) == LIST
    for raw, kind in ((direct, DIRECT), (listed, LIST)):
        (symbol,) = [
            s for s in mail_filter.scan(raw, envelope, policy).symbols
            if s.name.startswith("CLASSIFIER_")
        ]  # fmt: skip
        assert f"{kind} mail threshold {model.points[kind].threshold:.3f}" in symbol.detail


def test_numpy_scoring_equals_scikit_learns() -> None:
    # SPEC: MAIL-01 the scorer without scikit-learn computes the fitted pipeline exactly
    corpus = split()
    messages = [ParsedMessage(p.read_bytes())
                for p in corpus.train_ham[:30] + corpus.train_spam[:30]]  # fmt: skip
    blocks = matrices(messages)
    fitted = fit(blocks, np.array([0] * 30 + [1] * 30), 3.0)
    coef = np.asarray(fitted.svm.coef_[0])
    bounds = np.cumsum((0, *BLOCK_SIZES))
    model = Model(
        idf=tuple(t.idf_ for t in fitted.tfidf),
        coef=tuple(coef[a:b] for a, b in zip(bounds[:-1], bounds[1:], strict=True)),
        intercept=float(fitted.svm.intercept_[0]),
        points=dict.fromkeys((LIST, DIRECT), OperatingPoint(0.0, 1.0, 1.0)),
        info={},
    )
    got = np.array([model.decision(m) for m in messages])
    assert np.allclose(got, fitted.decisions(blocks), atol=1e-9)


def test_the_shipped_model_is_the_package_file() -> None:
    # SPEC: MAIL-01 the trained model ships inside the package (plain arrays, no pickle)
    path = shipped_model_path()
    assert path.is_file() and path.suffix == ".npz"
    with np.load(path, allow_pickle=False) as data:
        expected = {"meta"} | {
            f"{block}_{array}"
            for block in BLOCKS
            for array in ("idf_index", "idf_value", "coef_index", "coef_value")
        }
        assert set(data.files) == expected


FRENCH_BUSINESS = (
    (
        "Relance : facture n° F-2024-0312 échue",
        "Bonjour Madame Durand,\n\nSauf erreur de notre part, la facture n° F-2024-0312 du 15 "
        "février 2024, d'un montant de 1 250,00 € TTC, arrivée à échéance le 15 mars, reste "
        "impayée à ce jour.\n\nNous vous remercions de bien vouloir procéder à son règlement "
        "par virement sur le compte indiqué sur la facture, ou de nous indiquer la date prévue "
        "du paiement.\n\nSi ce règlement a été effectué entre-temps, merci de ne pas tenir "
        "compte de ce message.\n\nCordialement,\n\nPaul Martin\nService comptabilité\n"
        "Partenaire SARL\n12 rue de la République, 69002 Lyon\nTél. 04 72 00 00 00\n",
    ),
    (
        "Proposition de réunion jeudi 14 h",
        "Bonjour Sophie,\n\nPourrions-nous nous réunir jeudi prochain à 14 h dans nos locaux "
        "pour faire le point sur le déploiement des nouvelles lignes téléphoniques ? Si ce "
        "créneau ne vous convient pas, je peux aussi vous proposer vendredi matin.\n\nJe joins "
        "l'ordre du jour : état d'avancement, planning de la migration, questions diverses."
        "\n\nBien à vous,\n\nPaul Martin\nChef de projet\n",
    ),
    (
        "Demande de rendez-vous pour le renouvellement du contrat",
        "Bonjour Monsieur Petit,\n\nVotre contrat de maintenance arrive à échéance le 30 juin. "
        "Je vous propose un rendez-vous la semaine du 10 juin pour en faire le bilan et "
        "préparer son renouvellement : mardi 11 à 10 h ou jeudi 13 à 15 h, dans vos locaux ou "
        "en visioconférence.\n\nMerci de me dire ce qui vous convient le mieux.\n\n"
        "Cordialement,\n\nPaul Martin\nResponsable commercial\n",
    ),
)


def test_french_business_mail_is_delivered(
    mail_filter: Filter, policy: Policy, envelope: Envelope, message: MessageBuilder
) -> None:
    # SPEC: MAIL-01, MAIL-05 an invoice reminder, a meeting request and an appointment request
    # in French, none of them among the training messages, reach the recipient untagged
    shipped = " ".join(ParsedMessage(p.read_bytes()).visible_text for p in supplement_ham())
    assert "Suite à notre échange téléphonique" in shipped
    for subject, text in FRENCH_BUSINESS:
        assert text.split("\n")[2][:40] not in shipped  # not learned as such
        verdict = mail_filter.scan(message(subject=subject, text=text), envelope, policy)
        assert verdict.action is Action.DELIVER, (subject, verdict.score, verdict.symbols)
        assert [s.name for s in verdict.symbols] == ["CLASSIFIER_HAM"]
