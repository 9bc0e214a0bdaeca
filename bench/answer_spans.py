"""Answer-span accuracy (#12 item 5) of the real engine on the dev sets.

    python bench/answer_spans.py [--shared ../shared/eval] [--index-root .cache/answer-spans] [-v]

For every question with a gold answer the engine answers it (hybrid, k=5) and the top
result's `answer` span is scored: it hits when it contains the normalised gold answer and
is at most 3x its length (qa.evaluation.metrics.span_hit). Accuracy is given over all
answerable questions and over those whose highlight already holds the answer (where a span
can hit at all). The rules (qa.answer_span, Settings.spans) were fitted on seeds,
paraphrases and squad2; mixed is held out. The SQuAD 2.0 and mixed sets are read from
../shared/eval when present (they are not copied here).
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from qa.answer_types import span_kind  # noqa: E402
from qa.config import Settings  # noqa: E402
from qa.engine import Engine  # noqa: E402
from qa.evaluation.harness import Question, format_table, load_questions  # noqa: E402
from qa.evaluation.metrics import contains, span_hit  # noqa: E402


@dataclass(frozen=True)
class DevSet:
    name: str
    docs: Path
    questions: Path
    role: str  # "fit" or "held out"
    index: str  # the index folder's name under --index-root (seeds and paraphrases share one)


@dataclass(frozen=True)
class SetReport:
    name: str
    role: str
    answerable: int
    typed: int  # the question asks for a kind of span (qa.answer_types.span_kind)
    spans: int
    hits: int
    in_highlight: int  # the top highlight holds the gold answer
    hits_in_highlight: int

    def row(self) -> list[str]:
        share = lambda n, d: f"{n / d:.3f}" if d else "-"  # noqa: E731
        return [self.name, self.role, str(self.answerable), str(self.typed), str(self.spans), str(self.hits),
                share(self.hits, self.answerable), str(self.in_highlight), share(self.hits_in_highlight, self.in_highlight),
                share(self.hits, self.spans)]


HEADER = ["set", "role", "answerable", "typed", "spans", "hits", "accuracy", "in highlight", "accuracy there",
          "precision"]


def dev_sets(shared: Path) -> list[DevSet]:
    sets = [DevSet("seeds", ROOT / "seeds", ROOT / "data/eval/seed_questions.jsonl", "fit", "seeds"),
            DevSet("paraphrases", ROOT / "seeds", ROOT / "data/eval/paraphrases.jsonl", "fit", "seeds")]
    for name, role in (("squad2", "fit"), ("mixed", "held out")):
        if (shared / name / "questions.jsonl").is_file():
            sets.append(DevSet(name, shared / name / "docs", shared / name / "questions.jsonl", role, name))
        else:
            print(f"{name}: not found under {shared}, skipped", file=sys.stderr)
    return sets


def score(dev: DevSet, index_root: Path, verbose: bool) -> SetReport:
    """Answer every answerable question of `dev` and count its spans and hits."""
    engine = Engine.open(Settings(docs=(dev.docs,), index_dir=index_root / dev.index))
    questions: list[Question] = [q for q in load_questions(dev.questions) if q.answer]
    answers = engine.ask_batch([q.question for q in questions])
    typed = spans = hits = in_highlight = hits_in_highlight = 0
    for q, answer in zip(questions, answers):
        top = answer.best
        sentence = top.highlights[0].text if top is not None and top.highlights else ""
        span = top.answer if top is not None else None
        held, hit = contains(sentence, q.answer), span is not None and span_hit(span.text, q.answer)
        typed += span_kind(q.question) is not None
        spans += span is not None
        hits += hit
        in_highlight += held
        hits_in_highlight += hit and held
        if verbose and (span is not None or held and span_kind(q.question) is not None):
            mark = "hit " if hit else ("miss" if held else "n/h ")
            print(f"  {mark} [{span_kind(q.question)}] {q.question}\n       gold {q.answer!r}  span "
                  f"{span.text if span else None!r}")
    return SetReport(dev.name, dev.role, len(questions), typed, spans, hits, in_highlight, hits_in_highlight)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--shared", type=Path, default=ROOT.parent / "shared" / "eval")
    parser.add_argument("--index-root", type=Path, default=ROOT / ".cache" / "answer-spans")
    parser.add_argument("-v", "--verbose", action="store_true", help="list every span and every miss")
    args = parser.parse_args()
    reports = []
    for dev in dev_sets(args.shared):
        if args.verbose:
            print(dev.name)
        reports.append(score(dev, args.index_root, args.verbose))
    print(format_table([HEADER] + [r.row() for r in reports]))


if __name__ == "__main__":
    main()
