#!/usr/bin/env python3
"""LeNet-5 on Fashion-MNIST with PyTorch on the CPU: the reference the worker's DL4J throughput is
compared with (docs/benchmarks-worker.md). Same network, optimizer, batch size and thread count as
`tranche train` with docs/examples/fashion-mnist-lenet.yaml; reads the IDX files itself.

    /usr/bin/python3 bench/lenet_torch.py --threads 2 --limit 10000 --epochs 1
"""
import argparse
import gzip
import json
import os
import struct
import sys
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F


def read_idx(path):
    opener = gzip.open if open(path, "rb").read(2) == b"\x1f\x8b" else open
    with opener(path, "rb") as f:
        magic, = struct.unpack(">i", f.read(4))
        dims = struct.unpack(">" + "i" * (magic & 0xFF), f.read(4 * (magic & 0xFF)))
        data = np.frombuffer(f.read(), dtype=np.uint8)
    if data.size != int(np.prod(dims)):
        sys.exit(f"{path}: truncated: expected {int(np.prod(dims))} bytes, found {data.size}")
    return data.reshape(dims)


def find(directory, name):
    for candidate in (name, name + ".gz"):
        path = os.path.join(directory, candidate)
        if os.path.exists(path):
            return path
    sys.exit(f"{os.path.join(directory, name)}: not found (nor .gz)")


class LeNet(nn.Module):
    def __init__(self, filters=(20, 50), dense=500):
        super().__init__()
        self.conv1 = nn.Conv2d(1, filters[0], 5)
        self.conv2 = nn.Conv2d(filters[0], filters[1], 5)
        self.fc1 = nn.Linear(filters[1] * 4 * 4, dense)
        self.fc2 = nn.Linear(dense, 10)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.conv1(x)), 2)
        x = F.max_pool2d(F.relu(self.conv2(x)), 2)
        x = F.relu(self.fc1(x.flatten(1)))
        return self.fc2(x)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--data", default="/usr/share/datasets/fashion-mnist")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--limit", type=int, default=0)
    parser.add_argument("--test-limit", type=int, default=0)
    parser.add_argument("--seed", type=int, default=42)
    args = parser.parse_args()

    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    x = read_idx(find(args.data, "train-images-idx3-ubyte"))
    y = read_idx(find(args.data, "train-labels-idx1-ubyte"))
    tx = read_idx(find(args.data, "t10k-images-idx3-ubyte"))
    ty = read_idx(find(args.data, "t10k-labels-idx1-ubyte"))
    if args.limit:
        x, y = x[: args.limit], y[: args.limit]
    if args.test_limit:
        tx, ty = tx[: args.test_limit], ty[: args.test_limit]
    x = torch.from_numpy(x.astype(np.float32) / 255.0).unsqueeze(1)
    y = torch.from_numpy(y.astype(np.int64))
    tx = torch.from_numpy(tx.astype(np.float32) / 255.0).unsqueeze(1)
    ty = torch.from_numpy(ty.astype(np.int64))

    model = LeNet()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    generator = torch.Generator().manual_seed(args.seed)
    train_seconds = 0.0
    images = 0
    for epoch in range(args.epochs):
        model.train()
        order = torch.randperm(len(x), generator=generator)
        start = time.perf_counter()
        for i in range(0, len(x), args.batch_size):
            idx = order[i : i + args.batch_size]
            optimizer.zero_grad()
            loss = F.cross_entropy(model(x[idx]), y[idx])
            loss.backward()
            optimizer.step()
            images += len(idx)
        train_seconds += time.perf_counter() - start
        print(f"epoch {epoch + 1}/{args.epochs}: loss {loss.item():.4f}, {images / train_seconds:.0f} images/s", file=sys.stderr)

    model.eval()
    correct = 0
    with torch.no_grad():
        for i in range(0, len(tx), 500):
            correct += (model(tx[i : i + 500]).argmax(1) == ty[i : i + 500]).sum().item()
    print(json.dumps({
        "engine": "pytorch", "torch": torch.__version__, "threads": args.threads, "batch_size": args.batch_size,
        "epochs": args.epochs, "train_images": len(x), "test_images": len(tx),
        "test_accuracy": correct / len(tx), "images_per_second": images / train_seconds, "training_seconds": train_seconds,
    }))


if __name__ == "__main__":
    main()
