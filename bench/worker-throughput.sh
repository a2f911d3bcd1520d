#!/usr/bin/env bash
# The worker's numbers in docs/benchmarks-worker.md, one after another on this machine:
#   1. throughput, same LeNet (20/50 filters, 500 dense), batch 64, Adam, 2 cores each, 1 epoch over
#      LIMIT images, in ROUNDS interleaved rounds (a shared machine's load moves; interleaving
#      spreads it over all of them): single-process DL4J (2 native threads), Spark local[2]
#      (2 workers x 1 thread) with parameter averaging every 5 steps (the default) and every 20
#      steps, PyTorch (2 threads)
#   2. accuracy: LeNet on the full Fashion-MNIST, Spark local[2], 4 epochs, all 10,000 test images
# Usage: bench/worker-throughput.sh [LIMIT] [ROUNDS] [FULL_EPOCHS]   (defaults 6400, 2, 4; 0 epochs skips 2)
# Results: bench-results/*.json
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
limit="${1:-6400}"
rounds="${2:-2}"
full_epochs="${3:-4}"
spec=docs/examples/fashion-mnist-lenet.yaml
out=bench-results
mkdir -p "$out"
python=/usr/bin/python3
have_torch=1
"$python" -c "import torch" 2>/dev/null || { have_torch=0; echo "PyTorch not installed (apt-get install -y python3-torch): skipping it" >&2; }

for round in $(seq 1 "$rounds"); do
  echo "== round $round: $limit images, 1 epoch, batch 64, 2 cores each" >&2
  ./tranche train -f "$spec" --epochs 1 --limit "$limit" --test-limit 1000 --engine single --threads-per-worker 2 -o json > "$out/single-$round.json"
  ./tranche train -f "$spec" --epochs 1 --limit "$limit" --test-limit 1000 --workers 2 --threads-per-worker 1 -o json > "$out/spark-$round.json"
  ./tranche train -f "$spec" --epochs 1 --limit "$limit" --test-limit 1000 --workers 2 --threads-per-worker 1 --averaging-frequency 20 -o json > "$out/spark20-$round.json"
  if ((have_torch)); then
    "$python" bench/lenet_torch.py --threads 2 --batch-size 64 --epochs 1 --limit "$limit" --test-limit 1000 > "$out/torch-$round.json"
  fi
done
"$python" - "$out" "$rounds" "$have_torch" <<'PY'
import json, os, statistics, sys
d, rounds, have_torch = sys.argv[1], int(sys.argv[2]), sys.argv[3] == "1"
def rate(name, r):
    return json.load(open(f"{d}/{name}-{r}.json"))["images_per_second"]
rows = []
for r in range(1, rounds + 1):
    s, p, p20 = rate("single", r), rate("spark", r), rate("spark20", r)
    t = rate("torch", r) if have_torch else float("nan")
    rows.append((s, p, p20, t))
    print(f"round {r}: single DL4J {s:6.0f}  Spark local[2] avg/5 {p:6.0f} ({p / s:.2f}x single)  avg/20 {p20:6.0f} ({p20 / s:.2f}x single)  PyTorch {t:6.0f}  (DL4J single {s / t:.2f}x PyTorch)")
s, p, p20, t = (statistics.median(c) for c in zip(*rows))
print(f"median : single DL4J {s:6.0f}  Spark local[2] avg/5 {p:6.0f} ({p / s:.2f}x single)  avg/20 {p20:6.0f} ({p20 / s:.2f}x single)  PyTorch {t:6.0f}  (DL4J single {s / t:.2f}x PyTorch)")
PY

if [[ "$full_epochs" != "0" ]]; then
  echo "== accuracy: full Fashion-MNIST, Spark local[2], $full_epochs epochs" >&2
  ./tranche train -f bench/fashion-mnist-lenet-full.yaml --epochs "$full_epochs" --workers 2 --threads-per-worker 1 --averaging-frequency 2 -o json > "$out/full.json"
  "$python" -c "import json; r = json.load(open('$out/full.json')); print(f\"full Fashion-MNIST: test accuracy {r['test_accuracy']:.4f} on {r['test_images']} test images after {r['epochs']} epochs, {r['images_per_second']:.0f} images/s\")"
fi
