"""One population's training state and its gradient step: M independent runs updated by one set of tensor ops.

A step samples each member's batch, computes the method's per-member losses, back-propagates their sum once
(members share no parameter, so each gets exactly its own gradient), clips the gradient norm per member and
per group (policy, Q + mixer, V; as the official code's three optimisers), takes one Adam step (elementwise,
so stacked parameters are independent optimisers; no weight decay, no amsgrad) and soft-updates the targets.
The parameters of each group live in one ``[M, P]`` buffer (:mod:`omiga.flat`), so these chores are a few
tensor ops per step, however many parameter tensors the networks have.

On a CUDA device with ``TrainConfig.cuda_graph`` the update is captured once and replayed (:mod:`omiga.graphed`);
with ``TrainConfig.compile`` the losses and their gradient are one Inductor graph (:mod:`omiga.compiled`).

Divergence: each step records, without a device sync, the first step at which a member's loss was not finite.
Every ``check_every`` steps the trainer synchronises, also checks the parameters, and freezes the members that
broke: their parameters (online and target) are restored after every later update, so the others go on unaffected.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch

from omiga.batch import Batch, BatchSampler
from omiga.compiled import CompiledGradients
from omiga.config import MemberConfig, TrainConfig
from omiga.data.schema import OfflineDataset
from omiga.errors import ConfigError
from omiga.flat import FlatGroups, flat_adam_state, per_parameter_adam_state
from omiga.gradients import EagerGradients
from omiga.graphed import GraphedUpdate
from omiga.methods import check_action_kind, get_extra_networks, get_update_rule
from omiga.methods.options import check_option_kinds
from omiga.networks import ActionSpace, PopulationNetworks
from omiga.population import MemberTensors
from omiga.stacked import member_generators

__all__ = ["PopulationTrainer"]


class PopulationTrainer:
    """Networks, optimiser, sampler and divergence bookkeeping of M members."""

    def __init__(self, dataset: OfflineDataset | Sequence[OfflineDataset], *, config: TrainConfig,
                 members: Sequence[MemberConfig]):
        """``dataset``: one dataset, or several of the same shapes (member m trains on ``members[m].dataset``)."""
        self.config, self.members = config, tuple(members)
        datasets = (dataset,) if isinstance(dataset, OfflineDataset) else tuple(dataset)
        if not datasets:
            raise ConfigError("PopulationTrainer needs at least one dataset")
        dataset = datasets[0]
        if config.device.startswith("cuda") and not torch.cuda.is_available():
            raise ConfigError(f"device {config.device!r} requested but this torch build sees no CUDA GPU; "
                              "use device 'cpu'")
        check_action_kind(config.method, discrete=dataset.discrete)
        check_option_kinds(config.method, config.method_options, discrete=dataset.discrete)
        seeds = [m.seed for m in self.members]
        space = ActionSpace(n_agents=dataset.n_agents, obs_dim=dataset.obs_dim, state_dim=dataset.state_dim,
                            n_actions=dataset.n_actions, act_dim=dataset.act_dim)
        self.nets = PopulationNetworks(space, network=config.network, mixer=config.mixer,
                                       generators=member_generators(seeds, "init"),
                                       extra=get_extra_networks(config.method, space=space, network=config.network),
                                       ).to(config.device)
        self.params = FlatGroups(self.nets.optimised_groups(), grads=True)
        self.targets = FlatGroups(self.nets.target_groups(), grads=False)
        self.optimizer = torch.optim.Adam(list(self.params.buffers.values()), lr=config.lr, fused=True,
                                          capturable=config.cuda_graph)
        self._all_buffers = [*self.params.buffers.values(), *self.targets.buffers.values()]  # a frozen member keeps all
        self.sampler = BatchSampler(datasets, seeds=seeds, batch_size=config.batch_size, device=config.device,
                                    reward_to_go=config.reward_to_go, member_datasets=[m.dataset for m in self.members])
        self.member_tensors = MemberTensors.from_members(self.members, device=config.device)
        self.update_rule = get_update_rule(config.method)
        bfloat16 = config.matmul_precision == "bfloat16"
        self._gradients = EagerGradients(nets=self.nets, rule=self.update_rule, params=self.params,
                                         device_type=torch.device(config.device).type, bfloat16=bfloat16,
                                         autocast_cache=not config.cuda_graph)
        if config.compile:
            self._gradients = CompiledGradients(nets=self.nets, rule=self.update_rule, params=self.params,
                                                targets=self.targets, bfloat16=bfloat16, eager=self._gradients)
        self.step = 0
        n = len(self.members)
        self.active = [True] * n
        self.divergences: dict[int, tuple[int, str]] = {}
        self.loss_names: tuple[str, ...] = ()
        self.last_losses = torch.zeros(n, 0)
        self._first_bad_step = torch.full((n,), -1, dtype=torch.int64, device=config.device)
        self._bad_losses: torch.Tensor | None = None
        self._step_counter = torch.zeros((), dtype=torch.int64, device=config.device)  # self.step, on the device
        self._graph = GraphedUpdate(self._update_on_steps) if config.cuda_graph else None

    # -- the step --------------------------------------------------------------------------------------
    def train_step(self) -> None:
        """One gradient step of every active member (replayed from a CUDA graph once one is captured)."""
        frozen = [i for i, alive in enumerate(self.active) if not alive]
        saved = [b[frozen].clone() for b in self._all_buffers] if frozen else []
        steps, noise = self.sampler.advance()
        if self._graph is None:
            self._update(self.sampler.gather(steps, noise=noise))
        else:  # graphable methods draw no noise
            self._graph(steps)
        if frozen:
            with torch.no_grad():
                for b, old in zip(self._all_buffers, saved):
                    b[frozen] = old
        self.step += 1
        if self.step % self.config.check_every == 0:
            self.check_divergence()

    def _update_on_steps(self, steps: torch.Tensor) -> None:
        self._update(self.sampler.gather(steps))

    def _update(self, batch: Batch) -> None:
        """Losses, one backward pass, per-member clipping, Adam and the target update; no host sync."""
        losses = self._gradients(batch, self.member_tensors, self.config)
        if self.config.grad_clip > 0:
            self.params.clip_grad_norm_per_member(self.config.grad_clip)
        self.optimizer.step()
        self.targets.lerp_towards(self.params, self.config.tau)
        self._step_counter.add_(1)
        self._record(tuple(losses), torch.stack(list(losses.values()), dim=1))  # [M, n_losses]

    def _record(self, names: tuple[str, ...], values: torch.Tensor) -> None:
        self.loss_names, self.last_losses = names, values
        if self._bad_losses is None:
            self._bad_losses = torch.zeros_like(values)
        newly_bad = ~torch.isfinite(values).all(1) & (self._first_bad_step < 0)
        self._first_bad_step.copy_(torch.where(newly_bad, self._step_counter, self._first_bad_step))
        self._bad_losses.copy_(torch.where(newly_bad.unsqueeze(1), values, self._bad_losses))

    # -- divergence -----------------------------------------------------------------------------------
    def check_divergence(self) -> list[int]:
        """Synchronise: freeze members whose loss or parameters are not finite; returns the new ones."""
        bad_steps, finite_params = self._first_bad_step.tolist(), self.params.finite_members().tolist()
        newly = []
        for member, alive in enumerate(self.active):
            if not alive or (bad_steps[member] < 0 and finite_params[member]):
                continue
            if bad_steps[member] >= 0:
                values = self._bad_losses[member].tolist()
                detail = ", ".join(f"{n}={v:.6g}" for n, v in zip(self.loss_names, values))
                step, reason = bad_steps[member], f"non-finite loss at step {bad_steps[member]}: {detail}"
            else:
                step, reason = self.step, f"non-finite parameters found at step {self.step}"
            self.active[member] = False
            self.divergences[member] = (step, reason)
            newly.append(member)
        return newly

    def completed_steps(self, member: int) -> int:
        """Steps member ``member`` completed (up to its divergence)."""
        if member in self.divergences:
            return max(self.divergences[member][0] - 1, 0)
        return self.step

    # -- checkpoints ----------------------------------------------------------------------------------
    def state_dict(self) -> dict[str, object]:
        return {
            "step": self.step, "nets": self.nets.state_dict(),
            "optimizer": per_parameter_adam_state(self.optimizer.state_dict(), self.params),
            "sampler": self.sampler.state_dict(), "active": list(self.active),
            "divergences": {str(k): [v[0], v[1]] for k, v in self.divergences.items()},
            "loss_names": list(self.loss_names), "last_losses": self.last_losses,
            "first_bad_step": self._first_bad_step, "bad_losses": self._bad_losses,
        }

    def load_state_dict(self, state: dict[str, object]) -> None:
        self.step = int(state["step"])
        self.nets.load_state_dict(state["nets"])
        self.optimizer.load_state_dict(flat_adam_state(state["optimizer"], self.params, self.optimizer.state_dict()))
        self.sampler.load_state_dict(state["sampler"])
        self.active = [bool(a) for a in state["active"]]
        self.divergences = {int(k): (int(v[0]), str(v[1])) for k, v in state["divergences"].items()}
        self.loss_names, self.last_losses = tuple(state["loss_names"]), state["last_losses"]
        self._first_bad_step.copy_(state["first_bad_step"])  # into the tensors on the device (a graph reads them)
        bad = state["bad_losses"]
        self._bad_losses = None if bad is None else bad.to(self._first_bad_step.device)
        self._step_counter.fill_(self.step)
        if self._graph is not None:
            self._graph.reset()  # the optimiser's state tensors are new: capture again
