#!/usr/bin/env bash
# The device check of the population trainer on a CUDA GPU, as one script (device time is scarce), each part
# under its own time limit so that a slow part cannot starve the others:
#   1. the GPU tests (CUDA-graph replay = eager step, determinism, divergence, resume; compiled = eager step);
#   2. `python -m omiga train` end to end on a synthetic dataset with --cuda-graph and with --compile;
#   3. the throughput table: float32 eager and CUDA graph; float32 compiled (HalfCheetah shapes, M = 1 and 64:
#      Triton's compilation takes most of a compiled row's time); bfloat16 with CUDA graphs.
# Run from the repository root; logs go to $OUT (or ./gpu_check_out). GPU_CHECK_ROUNDS sets the rounds of 3.
set -u
out="${OUT:-gpu_check_out}"; mkdir -p "$out"
rounds="${GPU_CHECK_ROUNDS:-1}"
export PYTHONPATH="$PWD" PYTHONUNBUFFERED=1
part() { local limit=$1 name=$2; shift 2; local t0=$SECONDS
  timeout "$limit" "$@" > "$out/$name.txt" 2>&1; local rc=$?
  echo "== $name: exit $rc in $((SECONDS - t0)) s (limit $limit s)"; tail -n 25 "$out/$name.txt"; }
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader | tee "$out/gpu.txt"
python3 -c "import torch; print('torch', torch.__version__, torch.cuda.get_device_name())" | tee -a "$out/gpu.txt"
part 90 pytest python3 -m pytest -q -p no:cacheprovider tests/test_cuda_graph.py tests/test_compiled.py -k "cuda or gpu"
python3 - "$out/synthetic.h5" <<'PY'
import sys
from omiga.data import make_synthetic_dataset, save_dataset
save_dataset(make_synthetic_dataset(n_episodes=40, episode_length=20, n_agents=3, obs_dim=8, state_dim=10,
                                    n_actions=5, seed=0), sys.argv[1])
PY
cli=(python3 -m omiga train --dataset "$out/synthetic.h5" --alpha 1 10 --mixer qmix --seeds 0,1 --steps 400
     --checkpoint-every 200 --no-progress --device cuda)
part 40 cli_graph "${cli[@]}" --cuda-graph --out "$out/cli_graph"
part 60 cli_compile "${cli[@]}" --compile --out "$out/cli_compile"
python3 - "$out" <<'PY'
import json, sys
for name in ("cli_graph", "cli_compile"):
    try:
        members = json.load(open(f"{sys.argv[1]}/{name}/result.json"))["members"]
        print(name, [(m["alpha"], m["seed"], m["status"], m["steps"]) for m in members])
    except (OSError, KeyError, ValueError) as error:
        print(name, "no result:", error)
PY
common=(python3 -m benchmarks.train_throughput --device cuda --quick --rounds "$rounds")
part 170 bench_fp32 "${common[@]}" --members 1 16 64 --cuda-graph --precision float32
part 100 bench_fp32_compile "${common[@]}" --members 1 64 --shapes halfcheetah_6x1 --compile --precision float32
part 80 bench_bf16 "${common[@]}" --members 1 64 --shapes halfcheetah_6x1 --cuda-graph --precision bfloat16
