"""OMIGA: offline multi-agent RL with implicit global-to-local value regularisation."""
