"""The labelled BBC question sets in bench/: every expected answer stands verbatim in each
article its question names, so a miss in `qa eval` is the reader's, not the label's."""

import json

import pytest

from conftest import ROOT, SHARED
from qa.evaluate import load_labelled

CORPUS = SHARED / "corpora" / "bbc.jsonl"
SETS = sorted((ROOT / "bench").glob("bbc_*.jsonl"))


@pytest.fixture(scope="module")
def texts() -> dict[str, str]:
    if not CORPUS.exists():
        pytest.skip("../shared/corpora/bbc.jsonl is not beside the project")
    with CORPUS.open(encoding="utf-8") as lines:
        return {article["id"]: f"{article['title']}\n{article['text']}" for article in map(json.loads, lines)}


@pytest.mark.parametrize("path", SETS, ids=[p.name for p in SETS])
def test_answers_stand_verbatim_in_the_named_articles(texts, path):
    items = load_labelled(path)
    assert any(item["answers"] for item in items)
    if "topic_switch" not in path.name:  # those are new first questions, all answerable
        assert any(not item["answers"] for item in items)
    for item in items:
        for article_id in item.get("article_ids") or []:
            assert any(answer in texts[article_id] for answer in item["answers"]), (path.name, item["question"], article_id)
