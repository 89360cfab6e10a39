"""End to end on the toy_coop task: train a small population and evaluate it in the environment."""

from __future__ import annotations

from omiga.config import MemberConfig, NetworkConfig, TrainConfig
from omiga.data.build_toy import rollout_toy_dataset
from omiga.evaluate import evaluate_population
from omiga.train import train_population


def test_omiga_beats_the_medium_behaviour_policy_on_toy_coop(tmp_path):
    dataset = rollout_toy_dataset(task="toy_coop", quality="medium", episodes=200, seed=0)
    config = TrainConfig(steps=300, batch_size=64, eval_every=150, network=NetworkConfig(hidden=64))
    results = train_population(
        dataset, config=config, members=[MemberConfig(seed=0, alpha=1.0), MemberConfig(seed=1, alpha=1.0)],
        out_dir=tmp_path,
        evaluate=lambda policy, step: evaluate_population(policy, task="toy_coop", episodes=16, seed=step))
    assert [p.step for p in results[0].eval_curve] == [150, 300]
    behaviour = float(dataset.episode_returns.mean())
    assert all(r.status == "ok" and r.final_return > behaviour for r in results), (
        behaviour, [r.final_return for r in results])
