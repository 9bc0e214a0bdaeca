"""Why questions miss: for each answerable question whose gold passage is not first, the
question, the gold passage and the one ranked first, with the signals behind both.

    python bench/failures.py [--set mixed paraphrases ...] [--param group.name=value ...]

Reads the real engine's ranking (`Engine.ask` and its retriever's hits); nothing is re-ranked
here. Also lists highlight misses (gold passage first, wrong sentence) and the unanswerable
questions with their confidence, so failure causes can be grouped before anything is tuned.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.quality import SETS, with_params  # noqa: E402
from qa.config import load_settings  # noqa: E402
from qa.engine import Engine  # noqa: E402
from qa.evaluation.harness import DEPTH, load_questions  # noqa: E402
from qa.evaluation.metrics import contains  # noqa: E402


def short(text: str, width: int = 160) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= width else flat[: width - 3] + "..."


def hit_line(engine: Engine, hit, label: str) -> str:
    idx = engine.index
    chunk = idx.chunks[hit.row]
    doc = idx.document(hit.row)
    return (f"    {label} {doc.source}#{chunk.paragraph} score {hit.score:.3f} dense {hit.dense:.3f} "
            f"bm25 {hit.lexical:.2f} sent {hit.best_sentence:.3f} ctx[{short(chunk.context, 60)}]\n"
            f"        {short(chunk.text)}")


def explain(engine: Engine, question, mode: str) -> list[str]:
    ranking = engine.retriever.search(question.question, DEPTH * 10, mode)
    answer = engine.ask(question.question, k=DEPTH, mode=mode)
    texts = [engine.index.chunks[h.row].text for h in ranking.hits]
    gold = next((i for i, t in enumerate(texts) if contains(t, question.evidence)), None)
    lines = [f"  {question.id} {question.question}  [gold: {question.answer}] conf {answer.confidence:.2f}"
             f" answerable {answer.answerable}"]
    lines.append(hit_line(engine, ranking.hits[0], "first"))
    if gold is None:
        lines.append("    gold passage not among the first 100")
    else:
        lines.append(hit_line(engine, ranking.hits[gold], f"gold@{gold + 1}"))
    if answer.best and answer.best.highlights:
        lines.append(f"    highlight: {short(answer.best.highlights[0].text)}")
    return lines


def report(engine: Engine, questions, mode: str) -> None:
    for q in questions:
        answer = engine.ask(q.question, k=DEPTH, mode=mode)
        if q.answer is None:
            print(f"  UNANSWERABLE {q.id} flagged={not answer.answerable} conf {answer.confidence:.2f} "
                  f"{q.question}  ev={answer.evidence}")
            continue
        first_ok = bool(answer.results) and contains(answer.results[0].text, q.evidence)
        light_ok = bool(answer.best and answer.best.highlights and contains(answer.best.highlights[0].text, q.answer))
        if first_ok and light_ok:
            continue
        print("RANK MISS" if not first_ok else "HIGHLIGHT MISS")
        print("\n".join(explain(engine, q, mode)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--set", nargs="*", choices=sorted(SETS), default=["mixed", "paraphrases"])
    parser.add_argument("--param", nargs="*", default=[])
    parser.add_argument("--scratch", type=Path, default=ROOT / ".cache" / "quality")
    args = parser.parse_args()
    settings = with_params(load_settings(), args.param)
    for name in args.set:
        docs, path = SETS[name]
        folder = docs.resolve()
        index_dir = args.scratch / f"{folder.parent.name}-{folder.name}-index"
        engine = Engine.open(settings.replace(docs=(docs,), index_dir=index_dir))
        print(f"== {name}")
        report(engine, load_questions(path, scored=True), settings.mode)


if __name__ == "__main__":
    main()
