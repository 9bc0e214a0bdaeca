"""Tuned numbers live in frozen groups inside Settings, are recorded in the index manifest,
and a change through `settings.replace` reaches the real engine."""

from __future__ import annotations

import json
from dataclasses import FrozenInstanceError, replace

import pytest

from qa.config import PARAM_GROUPS, Settings, load_settings
from qa.engine import Engine
from qa.params import RankParams, with_values


def test_groups_are_frozen_and_changed_by_replace():
    settings = Settings()
    with pytest.raises(FrozenInstanceError):
        settings.rank.heading_bonus = 1.0  # type: ignore[misc]
    changed = settings.replace(rank=with_values(settings.rank, {"heading_bonus": "0.4"}))
    assert changed.rank.heading_bonus == 0.4 and settings.rank.heading_bonus == RankParams().heading_bonus
    with pytest.raises(ValueError, match="unknown parameter"):
        with_values(settings.rank, {"no_such": "1"})
    assert load_settings(environ={"QA_RANK": "x"}).rank == RankParams()  # groups are not read from the environment


def test_the_manifest_records_the_parameters(tiny_settings, embedder):
    settings = tiny_settings.replace(rank=replace(RankParams(), exact_token_bonus=0.25))
    engine = Engine.open(settings)
    manifest = engine.index.manifest
    assert set(manifest["parameters"]) == set(PARAM_GROUPS)
    assert manifest["parameters"]["rank"]["exact_token_bonus"] == 0.25
    assert json.loads(json.dumps(manifest["parameters"])) == settings.tuned()
    assert engine.retriever.params.exact_token_bonus == 0.25
