"""Benchmark: spam filtering accuracy of operateur against rspamd and SpamAssassin, offline,
each trained on the same part of the SpamAssassin corpus and scored on the same rest.

    python bench/mail_accuracy.py [--corpus DIR] [--engines operateur,rspamd,spamassassin]
                                  [--save-model PATH]

The model shipped in the package (operateur/mail/filter/data/spam_model.npz) is the one this
benchmark trains: ``--engines operateur --save-model operateur/mail/filter/data/spam_model.npz``.

Split (``operateur/mail/filter/corpus.py``): a message is in the training part when the
first 8 hex digits of the MD5 in its file name, as an integer, are below 70 modulo 100
(about 70 % train, 30 % test, identical on every machine, duplicates on one side). Nothing is
tuned on the test part: every choice of operateur's classifier (features, block weights, C,
operating points) was made by 5-fold cross-validation on the training part only.

How operateur's operating points are chosen (``classifier.train``): 5-fold cross-validation
on the training part gives every training message a decision value from a model that did not
see it. The false-positive budget is 0.2 % of the training ham (``TrainingOptions
.max_cv_false_positive_rate``: 4 of 2,095). Mail through a mailing-list manager (List-Id,
List-Post, X-BeenThere, Mailing-List, X-Mailing-List) and direct mail each get a threshold:
the budget is split between the two the way that lets the fewest training spam below their
threshold, each threshold halfway between the ham at its share and the next one down. The
final model is then fitted on the whole training part and keeps those thresholds.

Cross-validation figures on the training part: spam missed (of 987) at 4 false positives
(of 2,095 ham), 5-fold, mean over 5 shuffles (3 where marked *); "one threshold" is the
previous single operating point, "per kind" the list / direct thresholds:
  header tokens + text n-grams, one threshold .................. 35.2
  same, per kind ............................................... 13.8
  + structure tokens at weight 0.25, per kind (shipped) ........ 11.2
    (weight 0.15: 13.2, 0.35: 14.6; C = 3: 12.0, C = 30: 11.2, so C = 10 kept)
Tried and not kept, per kind: every header line's words instead of the header tokens (13.6)
or beside them (11.2, a fourth block for nothing); a separate model for direct mail (14.2);
a list / direct copy of every feature (16.8); a third kind, direct mail with List-Unsubscribe
or Precedence: bulk (8.6 — but that kind has 86 training ham and 8 spam, and a threshold set
just above all of a kind's training ham still lets about 1/(n+1) of its new ham past, so each
extra kind adds false-positive risk the budget does not count; the list kind, held at zero,
already carries some of it). One threshold: n-grams of the
whole text rather than 2,000 characters (45.3*), word tokens beside the n-grams (40.0*), byte
n-grams of the raw body (46.7*), every header line's words (30.0), first-hop relay tokens
(41.6), the structure block at weight 0.5 (45.0), multinomial naive Bayes alone (74*) or
averaged with the SVM (32.0*).

- operateur: ``classifier.train`` on the training part (plus the French business ham shipped
  in the package, ``corpus.supplement_ham``: the corpus has no French ham), then
  ``Filter.scan`` of each test message with the mail-security offer's thresholds and no
  network; "flagged" = blocked (quarantine or reject), the MAIL-05 meaning ("tagged" is also
  shown).
- rspamd (Debian package, throwaway instance, network modules off, resolver on an empty
  loopback zone): its Bayes (Redis) learns the training part with ``rspamc learn_spam /
  learn_ham`` (``Learn-Type: bulk``), then ``/checkv2`` per test message; "flagged" = any
  action but "no action".
- SpamAssassin (spamd ``--local``, no network tests): ``sa-learn --spam / --ham`` of the
  training part, then one spamd request per test message; "flagged" = score >= 5.

Prints, per engine: false positives (ham flagged) and false negatives (spam not flagged) as
counts and rates of the ham / spam scored, the same counts over all mail scored (the MAIL-05
definition), messages per second while scoring (one at a time), and operateur's ratios to
each peer. The SLA goal (MAIL-06) is FP < 0.01 % and FN < 0.5 %.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from operateur.catalog.service import get_offer
from operateur.mail.filter import Action, Envelope, Filter, Policy
from operateur.mail.filter.classifier import train
from operateur.mail.filter.corpus import Split, default_root, split, supplement_ham
from operateur.mail.filter.engines import Rspamd, Spamd
from operateur.testing.dns import DnsServer
from operateur.testing.redis import RedisServer
from operateur.testing.spam_engines import RspamdServer, SpamdServer

SLA_FP_PERCENT, SLA_FN_PERCENT = 0.01, 0.5


@dataclasses.dataclass
class Result:
    engine: str
    ham: int
    spam: int
    false_positives: int
    false_negatives: int
    seconds: float
    note: str = ""

    @property
    def fp_percent(self) -> float:
        return 100 * self.false_positives / self.ham

    @property
    def fn_percent(self) -> float:
        return 100 * self.false_negatives / self.spam

    @property
    def mail05_fp_percent(self) -> float:
        """Ham blocked over all mail scored (the MAIL-05 definition)."""
        return 100 * self.false_positives / (self.ham + self.spam)

    @property
    def mail05_fn_percent(self) -> float:
        """Spam delivered over all mail scored (the MAIL-05 definition)."""
        return 100 * self.false_negatives / (self.ham + self.spam)

    @property
    def rate(self) -> float:
        return (self.ham + self.spam) / self.seconds


def score_all(name: str, data: Split, flagged: Callable[[bytes], bool], note: str = "") -> Result:
    ham = [p.read_bytes() for p in data.test_ham]
    spam = [p.read_bytes() for p in data.test_spam]
    started = time.perf_counter()
    fp = sum(flagged(raw) for raw in ham)
    fn = sum(not flagged(raw) for raw in spam)
    seconds = time.perf_counter() - started
    return Result(name, len(ham), len(spam), fp, fn, seconds, note)


def copied_dir(root: Path, name: str, files: list[Path]) -> Path:
    """A directory holding copies of `files`, what rspamc and sa-learn read (rspamc skips
    symbolic links when it walks a directory)."""
    directory = root / name
    directory.mkdir()
    for path in files:
        shutil.copyfile(path, directory / path.name)
    return directory


def run_operateur(data: Split, work: Path, save_to: Path | None) -> list[Result]:
    started = time.perf_counter()
    ham = data.train_ham + supplement_ham()  # the shipped French business ham, training only
    model = train([p.read_bytes() for p in ham], [p.read_bytes() for p in data.train_spam])
    kinds = ", ".join(
        f"{kind} mail {s['cv_false_positives']} FP / {s['ham']} ham, "
        f"{s['cv_false_negatives']} FN / {s['spam']} spam, threshold "
        f"{model.points[kind].threshold:.3f}"
        for kind, s in model.info["segments"].items()
    )
    print(
        f"operateur: trained in {time.perf_counter() - started:.0f} s, cross-validation on the "
        f"training part: {model.info['cv_false_positives']} FP, "
        f"{model.info['cv_false_negatives']} FN ({kinds})",
        flush=True,
    )
    path = save_to or work / "model.npz"
    model.save(path)
    scanner = Filter(path)
    rules = get_offer("mail-security").terms.mail
    assert rules is not None
    policy = Policy(
        tag_at=float(rules.spam_tag_score),
        quarantine_at=float(rules.spam_quarantine_score),
        reject_at=float(rules.spam_reject_score),
    )
    envelope = Envelope(mail_from="", rcpt_tos=())
    actions: dict[bytes, Action] = {}

    def action(raw: bytes) -> Action:
        if raw not in actions:
            actions[raw] = scanner.scan(raw, envelope, policy).action
        return actions[raw]

    blocked = score_all(
        "operateur", data, lambda raw: action(raw) in (Action.QUARANTINE, Action.REJECT),
        "blocked (quarantine or reject)",
    )  # fmt: skip
    tagged = score_all(
        "operateur", data, lambda raw: action(raw) is not Action.DELIVER, "tagged or blocked"
    )
    tagged.seconds = blocked.seconds  # the second pass reads the verdicts of the first
    return [blocked, tagged]


def run_rspamd(data: Split, work: Path) -> Result:
    redis = RedisServer()
    redis.start()
    try:
        with (
            DnsServer() as resolver,
            RspamdServer(nameserver=resolver.nameserver, redis_url=redis.url) as server,
        ):
            started = time.perf_counter()
            spam = server.learn("spam", copied_dir(work, "rspamd-spam", data.train_spam))
            ham = server.learn("ham", copied_dir(work, "rspamd-ham", data.train_ham))
            print(
                f"rspamd: learned {spam} spam and {ham} ham in "
                f"{time.perf_counter() - started:.0f} s",
                flush=True,
            )
            engine = Rspamd(server.url)
            return score_all(
                "rspamd", data, lambda raw: engine.check(raw).action != "no action",
                "any action but 'no action'",
            )  # fmt: skip
    finally:
        redis.stop()


def run_spamassassin(data: Split, work: Path) -> Result:
    server = SpamdServer()
    started = time.perf_counter()
    server.learn("spam", copied_dir(work, "sa-spam", data.train_spam))
    server.learn("ham", copied_dir(work, "sa-ham", data.train_ham))
    print(
        f"SpamAssassin: learned in {time.perf_counter() - started:.0f} s: {server.learned()}",
        flush=True,
    )
    with server:
        engine = Spamd("127.0.0.1", server.port)
        return score_all(
            "SpamAssassin", data, lambda raw: engine.check(raw).score >= 5.0, "score >= 5"
        )


def report(results: list[Result]) -> None:
    print()
    print(f"{'engine':<13} {'FP (ham flagged)':>22} {'FN (spam passed)':>22} "
          f"{'MAIL-05 FP':>11} {'MAIL-05 FN':>11} {'msg/s':>7}  flagged =")  # fmt: skip
    for r in results:
        print(
            f"{r.engine:<13} {r.false_positives:>5}/{r.ham:<5} {r.fp_percent:>7.2f} %"
            f"   {r.false_negatives:>5}/{r.spam:<5} {r.fn_percent:>7.2f} %"
            f"  {r.mail05_fp_percent:>8.2f} %"
            f"  {r.mail05_fn_percent:>8.2f} %"
            f" {r.rate:>7.1f}  {r.note}"
        )
    ours = results[0]
    fp_met = ours.mail05_fp_percent < SLA_FP_PERCENT
    fn_met = ours.mail05_fn_percent < SLA_FN_PERCENT
    print(f"\nSLA goal (MAIL-06, rates over all mail as MAIL-05 defines them): FP < "
          f"{SLA_FP_PERCENT} %, FN < {SLA_FN_PERCENT} % — operateur "
          f"{'meets' if fp_met else 'misses'} the FP goal and "
          f"{'meets' if fn_met else 'misses'} the FN goal")  # fmt: skip
    for peer in results:
        if peer.engine == "operateur":
            continue
        fp = "∞" if ours.false_positives and not peer.false_positives else (
            f"{ours.false_positives / peer.false_positives:.2f}" if peer.false_positives else "-"
        )  # fmt: skip
        fn = f"{ours.false_negatives / peer.false_negatives:.2f}" if peer.false_negatives else "-"
        print(f"operateur / {peer.engine}: FP ratio {fp}, FN ratio {fn} (below 1 = operateur "
              f"better), speed ratio {ours.rate / peer.rate:.2f}")  # fmt: skip


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--corpus", type=Path, default=default_root())
    parser.add_argument("--engines", default="operateur,rspamd,spamassassin")
    parser.add_argument("--save-model", type=Path, help="Also keep operateur's model here")
    args = parser.parse_args()
    engines = args.engines.split(",")
    data = split(args.corpus)
    print(
        f"corpus {args.corpus}: train {len(data.train_ham)} ham + {len(data.train_spam)} spam, "
        f"test {len(data.test_ham)} ham + {len(data.test_spam)} spam",
        flush=True,
    )
    results: list[Result] = []
    with tempfile.TemporaryDirectory(prefix="mail-accuracy-") as tmp:
        work = Path(tmp)
        os.chmod(work, 0o755)  # the engines' system users read the copied corpus
        if "operateur" in engines:
            results.extend(run_operateur(data, work, args.save_model))
        if "rspamd" in engines:
            results.append(run_rspamd(data, work))
        if "spamassassin" in engines:
            results.append(run_spamassassin(data, work))
    report(results)
    return 0


if __name__ == "__main__":
    sys.exit(main())
