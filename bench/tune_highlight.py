"""Sweep the highlight weights on the seed questions, each scored on its gold passage.

Isolates highlighting from ranking: for every answerable question the passage holding its
evidence is highlighted, and a run counts how often the first highlight holds the answer.
Run: python bench/tune_highlight.py [--index DIR]
"""
import argparse
import itertools
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import qa.highlight as H
from qa.config import Settings
from qa.engine import Engine
from qa.evaluation.harness import load_questions
from qa.evaluation.metrics import contains
from qa.answer_types import answer_type
from qa.lexical import content_terms, tokenize

parser = argparse.ArgumentParser(description=__doc__)
parser.add_argument("--index", default=".cache/tune-index")
parser.add_argument("--questions", default="data/eval/seed_questions.jsonl")
args = parser.parse_args()
e = Engine.open(Settings(index_dir=Path(args.index)))
idx = e.index
qs = [q for q in load_questions(args.questions) if q.answer]
prep = []
for q in qs:
    row = next(i for i, c in enumerate(idx.chunks) if contains(c.text, q.evidence))
    c = idx.chunks[row]
    qv = e.embedder.encode_queries([q.question])[0]
    terms = idx.lexical.idf(content_terms(tokenize([q.question])[0]))
    st = [set(t) for t in tokenize(c.sentence_texts())]
    prep.append((q, c, qv, idx.sentence_vectors[idx.sentence_rows(row)], st, terms, answer_type(q.question)))
res = []
for lex, ew, ef, tw in itertools.product([0.0, 0.2, 0.3, 0.5, 0.7, 1.0], [0, 0.5, 1.0, 2.0], [0.3, 0.5, 0.7], [0, 0.05, 0.1, 0.2]):
    H.LEXICAL_WEIGHT, H.ECHO_WEIGHT, H.ECHO_FREE, H.ANSWER_TYPE_WEIGHT = lex, ew, ef, tw
    ok = []
    for q, c, qv, sv, st, terms, wq in prep:
        hl = H.highlight_passage(c.text, c.sentences, qv, sv, st, terms, wq)
        ok.append(contains(hl[0].text, q.answer))
    res.append((sum(ok), lex, ew, ef, tw, [q.id for (q, *_), o in zip(prep, ok) if not o]))
res.sort(key=lambda r: -r[0])
print("hits  lexical  echo  echo_free  answer_type  misses")
for r in res[:25]:
    print(f"{r[0]:4}  {r[1]:7}  {r[2]:4}  {r[3]:9}  {r[4]:11}  {' '.join(r[5])}")
print("cosine only:", [r[0] for r in res if r[1:5] == (0.0, 0, 0.3, 0)])
