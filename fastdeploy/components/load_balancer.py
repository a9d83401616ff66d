"""``happysimulator.components.load_balancer``: re-exports of fastdeploy's load balancer
and strategies."""

from ..model.load_balancer import LoadBalancer, LoadBalancerStats
from ..model.strategies import (LeastConnections, LoadBalancingStrategy, PowerOfTwoChoices,
                                Random, RoundRobin, WeightedRoundRobin)

__all__ = ["LoadBalancer", "LoadBalancerStats", "LoadBalancingStrategy", "LeastConnections",
           "PowerOfTwoChoices", "Random", "RoundRobin", "WeightedRoundRobin"]
