"""Configs survive the JSON round trip; ``--set`` errors name the key, value and type;
the generic RL folder imports no stage folder."""

from __future__ import annotations

import json
import re
from pathlib import Path

import ml_collections
import pytest

from physhmr_jax import config_io
from physhmr_jax.expert import config as expert_config
from physhmr_jax.expert.presets import PRESETS

PACKAGE = Path(__file__).resolve().parents[1] / "physhmr_jax"


def _round_trip(config: ml_collections.ConfigDict) -> ml_collections.ConfigDict:
    return config_io.from_dict(json.loads(json.dumps(config.to_dict())))


@pytest.mark.parametrize("preset", sorted(PRESETS))
def test_expert_config_json_round_trip(preset):
    config = expert_config.default_config(preset)
    config_io.set_value(config, "humanoid.contact_solref", [0.011, 1.0])
    back = _round_trip(config)
    assert back == config
    assert back.to_dict() == config.to_dict()
    # The sections rebuild the same typed configs.
    assert expert_config.ppo_config(back) == expert_config.ppo_config(config)
    assert expert_config.humanoid_config(back) == expert_config.humanoid_config(config)


@pytest.mark.parametrize("stage", ["distill", "finetune"])
@pytest.mark.parametrize("preset", ["smoke", "cpu", "gpu"])
def test_student_config_json_round_trip(preset, stage):
    from physhmr_jax.student import config as student_config

    config = student_config.default_config(preset, stage)
    back = _round_trip(config)
    assert back.to_dict() == config.to_dict()
    assert student_config.ppo_config(back) == student_config.ppo_config(config)
    assert (student_config.ppo_config(config).kin_weight > 1e6) == (stage == "distill")


def test_set_value_keeps_types_and_names_errors():
    config = expert_config.default_config("smoke")
    config_io.set_value(config, "ppo.learning_rate", 1)  # an int where a float is expected
    assert config.ppo.learning_rate == 1.0 and isinstance(config.ppo.learning_rate, float)
    config_io.set_value(config, "ppo.policy_hidden", [32, 32])
    assert config.ppo.policy_hidden == [32, 32]
    config_io.set_value(config, "env.reward_scales.pos", 0.6)
    assert config.env.reward_scales.pos == 0.6
    # null only where the entry has a derived default (a FieldReference): contact_solref.
    from physhmr_jax.humanoid import mjcf

    config_io.set_value(config, "humanoid.contact_solref", None)
    config_io.set_value(config, "humanoid.timestep_s", 1 / 180)
    assert mjcf.contact_solref(config.humanoid) == pytest.approx((2 / 180, 1.0))
    cases = {
        ("humanoid.contacts", None): '--set humanoid.contacts=null: expected a string (like "feet"), got NoneType',
        ("ppo.learning_rate", "abc"): "--set ppo.learning_rate=abc: expected a number (like 1.0), got a string",
        ("ppo.num_envs", 1.5): "--set ppo.num_envs=1.5: expected an integer (like 8), got a number",
        ("ppo.no_such", 1): "--set ppo.no_such: no such config entry",
        ("nope.learning_rate", 1): "--set nope.learning_rate: no config section 'nope'",
        ("env.reward_scales", 1): "--set env.reward_scales: is a section; set one of its entries (",
    }
    for (name, value), message in cases.items():
        with pytest.raises(config_io.ConfigError) as err:
            config_io.set_value(config, name, value)
        assert str(err.value).startswith(message), str(err.value)
    assert config_io.parse_value("1e-4") == 1e-4 and config_io.parse_value("abc") == "abc"
    assert config_io.parse_value("[64, 64]") == [64, 64] and config_io.parse_value("true") is True


def test_agents_import_no_stage_folder():
    stage = re.compile(r"^\s*(from|import) physhmr_jax\.(envs|motion|humanoid|vision|expert|student)\b", re.M)
    offenders = [p.name for p in (PACKAGE / "agents").glob("*.py") if stage.search(p.read_text())]
    assert offenders == []
