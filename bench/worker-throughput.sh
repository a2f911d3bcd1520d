#!/usr/bin/env bash
# The worker's numbers in docs/benchmarks-worker.md, one after another on this machine:
#   1. throughput, same LeNet (20/50 filters, 500 dense), batch 64, Adam, 2 cores each, 1 epoch over
#      LIMIT images, in ROUNDS interleaved rounds (a shared machine's load moves; interleaving
#      spreads it over all of them): single-process DL4J (2 native threads), Spark local[2]
#      (2 workers x 1 thread) at the default settings (averaging_frequency auto), PyTorch (2 threads)
#   2. accuracy: LeNet on the full Fashion-MNIST, default settings (Spark local[2], averaging auto,
#      a tenth held out for validation), FULL_EPOCHS epochs, seeds 1, 2 and 3, the model best on
#      validation tested once on all 10,000 test images
# Usage: bench/worker-throughput.sh [LIMIT] [ROUNDS] [FULL_EPOCHS]   (defaults 6400, 3, 5; 0 epochs skips 2)
# Results: bench-results/*.json
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
limit="${1:-6400}"
rounds="${2:-3}"
full_epochs="${3:-5}"
spec=docs/examples/fashion-mnist-lenet.yaml
out=bench-results
mkdir -p "$out"
python=/usr/bin/python3
have_torch=1
"$python" -c "import torch" 2>/dev/null || { have_torch=0; echo "PyTorch not installed (apt-get install -y python3-torch): skipping it" >&2; }

for round in $(seq 1 "$rounds"); do
  echo "== round $round: $limit images, 1 epoch, batch 64, 2 cores each; load: $(uptime)" >&2
  ./tranche train -f "$spec" --epochs 1 --limit "$limit" --test-limit 1000 --engine single --threads-per-worker 2 -o json > "$out/single-$round.json"
  ./tranche train -f "$spec" --epochs 1 --limit "$limit" --test-limit 1000 --workers 2 --threads-per-worker 1 -o json > "$out/spark-$round.json"
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
    s, p = rate("single", r), rate("spark", r)
    f = json.load(open(f"{d}/spark-{r}.json"))["averaging_frequency"]
    t = rate("torch", r) if have_torch else float("nan")
    rows.append((s, p, t, p / s, s / t))
    print(f"round {r}: single DL4J {s:6.0f}  Spark local[2] default (auto: every {f} steps) {p:6.0f} ({p / s:.2f}x single)  PyTorch {t:6.0f}  (DL4J single {s / t:.2f}x PyTorch)")
s, p, t, ps, st = (statistics.median(c) for c in zip(*rows))
print(f"median : single DL4J {s:6.0f}  Spark local[2] default {p:6.0f}  PyTorch {t:6.0f};  median of per-round ratios: Spark/single {ps:.2f}x, DL4J single/PyTorch {st:.2f}x")
PY

if [[ "$full_epochs" != "0" ]]; then
  echo "== accuracy: full Fashion-MNIST, default settings, $full_epochs epochs, seeds 1, 2, 3; load: $(uptime)" >&2
  ./tranche train -f bench/fashion-mnist-lenet-full.yaml --epochs "$full_epochs" --seeds 1,2,3 -o json > "$out/full.json"
  "$python" - "$out/full.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
for run in r["runs"]:
    print(f"seed {run['seed']}: test accuracy {run['test_accuracy']:.4f} (model of epoch {run['model_epoch']}, validation {run['validation_accuracy']:.4f}, averaging every {run['averaging_frequency']} steps, {run['images_per_second']:.0f} images/s)")
print(f"mean {r['test_accuracy_mean']:.4f}, standard deviation {r['test_accuracy_std']:.4f}, lowest {r['test_accuracy_min']:.4f}")
PY
fi
