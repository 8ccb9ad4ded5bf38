"""PyTorch's KD step on the README's two training-speed networks.

The same step as BenchmarkKDStep in distill/: forward, KL distillation loss
at T = 4 (times T²), backward and an Adam step, ReLU MLPs, float32, on 2
threads. Prints samples per second, the median of 5 timed rounds.

    /usr/bin/python3 examples/bench/torch_kd_step.py
"""
import statistics
import time

import torch

torch.set_num_threads(2)
torch.manual_seed(0)


def kd_step_rate(sizes, batch, reps):
    layers = []
    for a, b in zip(sizes[:-1], sizes[1:]):
        layers += [torch.nn.Linear(a, b), torch.nn.ReLU()]
    net = torch.nn.Sequential(*layers[:-1])
    opt = torch.optim.Adam(net.parameters(), lr=1e-3)
    x = torch.randn(batch, sizes[0])
    teacher = torch.softmax(torch.randn(batch, sizes[-1]), 1)
    T = 4.0
    target = torch.softmax(torch.log(teacher) / T, 1)

    def step():
        opt.zero_grad()
        z = net(x)
        loss = torch.nn.functional.kl_div(torch.log_softmax(z / T, 1), target, reduction="batchmean") * T * T
        loss.backward()
        opt.step()

    for _ in range(5):
        step()
    rates = []
    for _ in range(5):
        t0 = time.perf_counter()
        for _ in range(reps):
            step()
        rates.append(reps * batch / (time.perf_counter() - t0))
    return statistics.median(rates)


print("784-512-512-10, batch 128: %.0f samples/s" % kd_step_rate([784, 512, 512, 10], 128, 30))
print("64-256-256-10, batch 64: %.0f samples/s" % kd_step_rate([64, 256, 256, 10], 64, 200))
