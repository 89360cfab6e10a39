"""SAC for MaMuJoCo: the online learner that makes the behaviour policies of the MaMuJoCo datasets.

OMIGA's MaMuJoCo data (expert, medium, medium-replay, medium-expert) come from online RL agents of different
skill, as D4RL's do. This package is that learner, written in JAX (:mod:`.update`: one jitted SAC step with twin
critics, Polyak targets and a learned temperature, on the single-agent-equivalent joint action: global state
in, every agent's action out) with a resumable training loop (:mod:`.train`: actor snapshots evaluated along the
way, one checkpoint every few thousand steps). Actors are exported in the project's MaMuJoCo behaviour checkpoint
format (:mod:`omiga.data.behavior_mamujoco`), which the dataset builder rolls out.
"""
