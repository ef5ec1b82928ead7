#!/usr/bin/python3
"""PyTorch peer of bench/run.ts: the same MLP and CNN (float and 4-bit fake-quantized with
torch.fake_quantize_per_tensor_affine), batch 128, Adam(1e-3), synthetic data, 1 and 2 threads.
Prints one JSON object: {"torch": version, "results": [{workload, threads, trainSamplesPerSec, ...}]}.
Usage: /usr/bin/python3 bench/peer_torch.py [--quick] [--threads 1,2] [--only mlp-float,cnn-qat4]
Never part of npm test."""
import json
import resource
import statistics
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

BATCH, CLASSES, BITS = 128, 10, 4


def fq_weight(w):
    """Signed narrow-range per-tensor weight fake-quant, scale = max|w| / (2^(b-1) - 1)."""
    qmax = 2 ** (BITS - 1) - 1
    scale = float(w.detach().abs().max().clamp_min(1e-8)) / qmax
    return torch.fake_quantize_per_tensor_affine(w, scale, 0, -qmax, qmax)


def fq_act(x, signed, clip):
    """Per-tensor activation fake-quant with a fixed clip value (a stand-in for Brevitas' runtime stats)."""
    if signed:
        qmin, qmax = -(2 ** (BITS - 1)), 2 ** (BITS - 1) - 1
    else:
        qmin, qmax = 0, 2 ** BITS - 1
    return torch.fake_quantize_per_tensor_affine(x, clip / qmax, 0, qmin, qmax)


class QLinear(nn.Linear):
    def forward(self, x):
        return F.linear(x, fq_weight(self.weight), self.bias)


class QConv(nn.Conv2d):
    def forward(self, x):
        return F.conv2d(x, fq_weight(self.weight), self.bias, padding=1)


class Mlp(nn.Module):
    def __init__(self, qat):
        super().__init__()
        L = QLinear if qat else nn.Linear
        self.qat = qat
        self.l1, self.l2, self.l3 = L(784, 256), L(256, 256), L(256, CLASSES)

    def forward(self, x):
        a = (lambda t: fq_act(t, False, 4.0)) if self.qat else (lambda t: t)
        if self.qat:
            x = fq_act(x, True, 1.0)
        x = a(F.relu(self.l1(x)))
        x = a(F.relu(self.l2(x)))
        return self.l3(x)


class Cnn(nn.Module):
    def __init__(self, qat):
        super().__init__()
        C = QConv if qat else nn.Conv2d
        L = QLinear if qat else nn.Linear
        self.qat = qat
        self.c1, self.c2 = C(1, 8, 3, padding=1), C(8, 16, 3, padding=1)
        self.fc = L(16 * 7 * 7, CLASSES)

    def forward(self, x):
        a = (lambda t: fq_act(t, False, 4.0)) if self.qat else (lambda t: t)
        if self.qat:
            x = fq_act(x, True, 1.0)
        x = a(F.avg_pool2d(a(F.relu(self.c1(x))), 2))
        x = a(F.avg_pool2d(a(F.relu(self.c2(x))), 2))
        return self.fc(torch.flatten(x, 1))


def measure(name, threads, warmup, reps, steps):
    torch.set_num_threads(threads)
    torch.manual_seed(1234)
    net, variant = name.split('-')
    model = (Mlp if net == 'mlp' else Cnn)(variant != 'float')
    shape = (BATCH, 784) if net == 'mlp' else (BATCH, 1, 28, 28)
    batches = [(torch.rand(shape), torch.randint(0, CLASSES, (BATCH,))) for _ in range(4)]
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)

    def step(i):
        x, y = batches[i % 4]
        opt.zero_grad()
        F.cross_entropy(model(x), y).backward()
        opt.step()

    s = 0
    for _ in range(warmup):
        step(s)
        s += 1
    ms, cpu = [], 0.0
    for _ in range(reps):
        c0, t0 = time.process_time(), time.perf_counter()
        for _ in range(steps):
            step(s)
            s += 1
        ms.append((time.perf_counter() - t0) * 1000 / steps)
        cpu += time.process_time() - c0
    inf = []
    with torch.no_grad():
        model.eval()
        for _ in range(reps):
            t0 = time.perf_counter()
            for i in range(steps):
                model(batches[i % 4][0])
            inf.append((time.perf_counter() - t0) * 1000 / steps)
    m = statistics.median(ms)
    return {
        'workload': name, 'threads': threads,
        'trainSamplesPerSec': BATCH * 1000 / m,
        'trainSamplesPerCpuSec': BATCH * reps * steps / cpu if cpu > 0 else 0,
        'inferSamplesPerSec': BATCH * 1000 / statistics.median(inf),
        'msPerStep': m,
    }


def main(argv):
    quick = '--quick' in argv
    threads = [1, 2]
    only = ['mlp-float', 'cnn-float', 'mlp-qat4', 'cnn-qat4']
    for i, a in enumerate(argv):
        if a == '--threads':
            threads = [int(t) for t in argv[i + 1].split(',')]
        if a == '--only':
            only = argv[i + 1].split(',')
    warmup, reps, steps = (1, 3, 3) if quick else (5, 5, 10)
    results = [measure(n, t, warmup, reps, steps) for t in threads for n in only]
    print(json.dumps({'torch': torch.__version__, 'peakRssMB': resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                      'results': results}))


if __name__ == '__main__':
    main(sys.argv[1:])
