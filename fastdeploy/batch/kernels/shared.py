"""The shared rules (fastdeploy/rules) as the kernels compile them: each module's view
from rules/jit.py ``in_kernels``, whose rules are copies without numba's Python wrapper.
Kernel modules import rules from here; nothing else may (a copy called from Python would
crash the process)."""

from ...rules import (argo, arrivals, autoscaler, balancer, canary, deployer, distributions,
                      flagger, fleet, histogram, hpa, kayenta, measure, profiles, requests, rng,
                      rolling, routing, server, timeconv)
from ...rules.jit import in_kernels

argo = in_kernels(argo)
arrivals = in_kernels(arrivals)
autoscaler = in_kernels(autoscaler)
balancer = in_kernels(balancer)
canary = in_kernels(canary)
deployer = in_kernels(deployer)
distributions = in_kernels(distributions)
flagger = in_kernels(flagger)
fleet = in_kernels(fleet)
histogram = in_kernels(histogram)
hpa = in_kernels(hpa)
kayenta = in_kernels(kayenta)
measure = in_kernels(measure)
profiles = in_kernels(profiles)
requests = in_kernels(requests)
rng = in_kernels(rng)
rolling = in_kernels(rolling)
routing = in_kernels(routing)
server = in_kernels(server)
timeconv = in_kernels(timeconv)
