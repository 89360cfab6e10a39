"""TensorBoard scalars per member (read back with TensorBoard's own event reader) and the progress lines."""

from __future__ import annotations

import io
from dataclasses import dataclass

import pytest
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

from omiga.config import MemberConfig, NetworkConfig, TrainConfig
from omiga.monitor.progress import StepProgress, format_duration
from omiga.train import train_population

CONFIG = TrainConfig(steps=25, batch_size=16, eval_every=10, checkpoint_every=10, mixer="vdn",
                     network=NetworkConfig(hidden=32, mixer_hidden=8))
MEMBERS = [MemberConfig(seed=0, alpha=1.0), MemberConfig(seed=1, alpha=5.0, global_info=False)]


@dataclass(frozen=True)
class _Score:
    mean_return: float
    win_rate: float | None


class _Stop(Exception):
    pass


def _evaluate(stop_at: int | None = None):
    def evaluate(policy, step):
        if step == stop_at:
            raise _Stop
        return [_Score(mean_return=float(step + m), win_rate=0.25 * m) for m in range(policy.n_members)]
    return evaluate


def _scalars(directory) -> dict[str, list[tuple[int, float]]]:
    accumulator = EventAccumulator(str(directory))
    accumulator.Reload()
    return {tag: [(e.step, e.value) for e in accumulator.Scalars(tag)] for tag in accumulator.Tags()["scalars"]}


def test_each_member_gets_its_eval_and_loss_scalars_at_every_evaluation(discrete_dataset, tmp_path):
    results = train_population(discrete_dataset, config=CONFIG, members=MEMBERS, out_dir=tmp_path,
                               evaluate=_evaluate(), tensorboard=True)
    runs = sorted(p.name for p in (tmp_path / "tensorboard").iterdir())
    assert runs == ["m000-omiga-a1-global-s0-d0", "m001-omiga-a5-local-s1-d0"]
    second = _scalars(tmp_path / "tensorboard" / runs[1])
    assert set(second) == {"eval/return", "eval/win_rate", "loss/q", "loss/v", "loss/pi"}
    assert second["eval/return"] == [(10, 11.0), (20, 21.0), (25, 26.0)]
    assert second["eval/win_rate"] == [(10, 0.25), (20, 0.25), (25, 0.25)]
    final = {tag: points[-1] for tag, points in second.items() if tag.startswith("loss/")}
    for tag, (step, value) in final.items():  # the last losses are the result's final losses (float32 events)
        assert step == 25 and value == pytest.approx(results[1].final_losses[tag], rel=1e-6)


def test_a_resumed_run_writes_the_whole_history_once(discrete_dataset, tmp_path):
    with pytest.raises(_Stop):
        train_population(discrete_dataset, config=CONFIG, members=MEMBERS, out_dir=tmp_path,
                         evaluate=_evaluate(stop_at=20), tensorboard=True)
    assert not (tmp_path / "tensorboard").exists()  # written at the end, not while training
    train_population(discrete_dataset, config=CONFIG, members=MEMBERS, out_dir=tmp_path, evaluate=_evaluate(),
                     tensorboard=True)
    train_population(discrete_dataset, config=CONFIG, members=MEMBERS, out_dir=tmp_path, evaluate=_evaluate(),
                     tensorboard=True)  # already done: rewrites the same scalars, no duplicates
    member = tmp_path / "tensorboard" / "m000-omiga-a1-global-s0-d0"
    assert len(list(member.glob("events.out.tfevents.*"))) == 1
    assert _scalars(member)["eval/return"] == [(10, 10.0), (20, 20.0), (25, 25.0)]


def test_a_run_without_evaluation_writes_no_scalars(discrete_dataset, tmp_path):
    train_population(discrete_dataset, config=CONFIG, members=MEMBERS, out_dir=tmp_path, tensorboard=True)
    assert (tmp_path / "result.json").is_file() and not (tmp_path / "tensorboard").exists()


def test_without_a_terminal_progress_is_a_line_every_interval():
    now = [0.0]
    stream = io.StringIO()
    progress = StepProgress(total=100, desc="train M=2", stream=stream, interval_s=30, clock=lambda: now[0])
    for _ in range(50):
        now[0] += 1.0  # 1 s a step: a line at 30 s, none before
        progress.update()
    now[0] += 10.0
    progress.update(10)  # 30 s after the last line
    progress.close()  # nothing new since: no second copy
    now[0] += 2.0
    progress.update(5)
    progress.close()  # the final count, once
    assert stream.getvalue().splitlines() == [
        "train M=2: 30/100 steps (30%), 1.0 steps/s, ETA 1 min 10 s",
        "train M=2: 60/100 steps (60%), 1.0 steps/s, ETA 40 s",
        "train M=2: 65/100 steps (65%), 1.0 steps/s, ETA 33 s",  # 65 steps in 62 s
    ]


def test_member_labels_name_only_the_settings_the_method_reads():
    from omiga.monitor import member_label

    assert member_label(3, method="omiga", alpha=0.3, global_info=True, seed=2, dataset=1) == "m003-omiga-a0.3-global-s2-d1"
    assert member_label(0, method="bc", alpha=1.0, global_info=True, seed=0, dataset=0) == "m000-bc-s0-d0"


@pytest.mark.parametrize(("seconds", "text"), [(0.4, "0 s"), (59, "59 s"), (65, "1 min 05 s"),
                                               (3720, "1 h 02 min")])
def test_durations_read_as_people_write_them(seconds, text):
    assert format_duration(seconds) == text
