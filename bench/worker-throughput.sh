#!/usr/bin/env bash
# The worker's numbers in docs/benchmarks-worker.md, one after another on this machine:
#   1. throughput, same LeNet, batch 64, 2 cores each: single-process DL4J (2 native threads),
#      Spark local[2] (2 workers x 1 thread, parameter averaging), PyTorch (2 threads)
#   2. accuracy: LeNet on the full Fashion-MNIST, Spark local[2], 5 epochs, all 10,000 test images
# Usage: bench/worker-throughput.sh [LIMIT] [EPOCHS_FULL]   (defaults 10000 and 5; results in bench-results/)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
limit="${1:-10000}"
full_epochs="${2:-5}"
spec=docs/examples/fashion-mnist-lenet.yaml
out=bench-results
mkdir -p "$out"
python=/usr/bin/python3

echo "== throughput: $limit images, 1 epoch, batch 64, 2 cores each" >&2
./tranche train -f "$spec" --epochs 1 --limit "$limit" --test-limit 2000 --engine single --threads-per-worker 2 -o json > "$out/single.json"
./tranche train -f "$spec" --epochs 1 --limit "$limit" --test-limit 2000 --workers 2 --threads-per-worker 1 -o json > "$out/spark.json"
if "$python" -c "import torch" 2>/dev/null; then
  "$python" bench/lenet_torch.py --threads 2 --batch-size 64 --epochs 1 --limit "$limit" --test-limit 2000 > "$out/torch.json"
else
  echo "PyTorch not installed (apt-get install -y python3-torch): skipping it" >&2
  echo '{"images_per_second": null}' > "$out/torch.json"
fi
"$python" - "$out" <<'PY'
import json, sys
d = sys.argv[1]
single, spark, torch = (json.load(open(f"{d}/{n}.json")) for n in ("single", "spark", "torch"))
print(f"single-process DL4J : {single['images_per_second']:.0f} images/s")
print(f"Spark local[2]      : {spark['images_per_second']:.0f} images/s  ({spark['images_per_second'] / single['images_per_second']:.2f}x single)")
if torch["images_per_second"]:
    print(f"PyTorch CPU         : {torch['images_per_second']:.0f} images/s  (DL4J single = {single['images_per_second'] / torch['images_per_second']:.2f}x PyTorch)")
PY

if [[ "$full_epochs" != "0" ]]; then
  echo "== accuracy: full Fashion-MNIST, Spark local[2], $full_epochs epochs" >&2
  ./tranche train -f bench/fashion-mnist-lenet-full.yaml --epochs "$full_epochs" --workers 2 --threads-per-worker 1 --averaging-frequency 2 -o json > "$out/full.json"
  "$python" -c "import json; r = json.load(open('$out/full.json')); print(f\"full Fashion-MNIST: test accuracy {r['test_accuracy']:.4f} on {r['test_images']} test images after {r['epochs']} epochs, {r['images_per_second']:.0f} images/s\")"
fi
