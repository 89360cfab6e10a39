#!/usr/bin/env bash
# The device check of the population trainer on a CUDA GPU, as one script (device time is scarce):
# the GPU tests (CUDA-graph replay = eager step, determinism, divergence, resume; compiled = eager step), then
# the throughput table eager, with CUDA graphs and (float32) compiled. Run from the repository root; logs go to $OUT (or ./gpu_check_out).
set -u
out="${OUT:-gpu_check_out}"; mkdir -p "$out"
export PYTHONPATH="$PWD" PYTHONUNBUFFERED=1
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader | tee "$out/gpu.txt"
python3 -c "import torch; print('torch', torch.__version__, torch.cuda.get_device_name())" | tee -a "$out/gpu.txt"
python3 -m pytest -q -p no:cacheprovider tests/test_cuda_graph.py tests/test_compiled.py -k "cuda or gpu" 2>&1 | tee "$out/pytest.log" | tail -15
common=(--device cuda --members 1 16 64 --cuda-graph)
python3 -m benchmarks.train_throughput "${common[@]}" --precision float32 --rounds 3 --quick --compile 2>&1 | tee "$out/bench_fp32.txt"
python3 -m benchmarks.train_throughput "${common[@]}" --precision bfloat16 --rounds 1 --quick 2>&1 | tee "$out/bench_bf16.txt"
