#!/usr/bin/env bash
# The GPU measurements of issue 12, in one script for any NVIDIA host with the GPU image or a venv with
# CUDA torch and TensorRT (`pip install tensorrt`): TensorRT FP16 and INT8 engines from the rebuilt float
# model, NVDEC decoding, many replayed cameras at once, cameras per GPU at 1, 2 and 5 analysed frames/s
# against the engine's raw throughput at the worker's batch. Figures go to var/bench/gpu/ as JSON and
# markdown; copy them into docs/performance.md and docs/deploy.md ("GPU") with this command line.
#
#   STREETWATCH_ASSETS=/assets bash deploy/gpu-bench.sh            # on the GPU host, from the project root
#
# CI never runs it; no session so far had a GPU to run it on, so it has not been run.
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=${OUT:-var/bench/gpu}
DEVICE=${DEVICE:-0}
mkdir -p "$OUT"
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv | tee "$OUT/gpu.csv"

# 1. Engines for this GPU (TensorRT engines are built per GPU model and TensorRT version).
streetwatch models rebuild --out "$OUT/yolov8n-rebuilt.pt" --check 0
streetwatch export "$OUT/yolov8n-rebuilt.pt" --format engine --out "$OUT/fp16"
streetwatch export "$OUT/yolov8n-rebuilt.pt" --format engine --int8 --out "$OUT/int8"
FP16=$(ls "$OUT"/fp16/*.engine)
INT8=$(ls "$OUT"/int8/*.engine)

# 2. NVDEC against software decoding, per stream.
streetwatch bench decode --hwaccel cuda --repeats 3 --markdown --out "$OUT/decode.json" | tee "$OUT/decode.md"

# 3. Each engine's raw throughput at the batches a worker sends, against the detector on the same frames.
for engine in "$FP16" "$INT8"; do
  name=$(basename "$engine" .engine)
  for batch in 1 8 32; do
    streetwatch bench detect --model "$engine" --device "$DEVICE" --batch "$batch" --frames 64 --repeats 3 \
      --markdown --out "$OUT/detect-$name-b$batch.json" | tee "$OUT/detect-$name-b$batch.md"
  done
done

# 4. Many replayed cameras through one worker on the GPU, at 1, 2 and 5 analysed frames/s: the search
#    doubles the cameras until frames drop, then halves the gap.
for fps in 1 2 5; do
  streetwatch bench pipeline --model "$FP16" --device "$DEVICE" --decode all --analysis-fps "$fps" \
    --window 30 --warmup 15 --repeats 1 --out "$OUT/pipeline-fp16-$fps.json" | tee "$OUT/pipeline-fp16-$fps.md"
done

# 5. Evaluation on the shared truth with the engine: the GPU default must keep F1 1.0 as the CPU one does.
STREETWATCH_MODEL="$FP16" STREETWATCH_DEVICE="$DEVICE" streetwatch eval tests/data/truth-shared-clips.yaml \
  --out "$OUT/eval-fp16" --min-f1 1.0 | tee "$OUT/eval-fp16.md"
echo "figures in $OUT"
