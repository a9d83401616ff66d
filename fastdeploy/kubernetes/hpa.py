"""HorizontalPodAutoscaler: the Kubernetes controller (autoscaling/v2) over a load
balancer's backends, in the object engine (the kernels run the same rules)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

from ..core import validate
from ..core.entity import Entity
from ..deployment._common import check_fleet, instance_bounds, interval
from ..deployment.autoscaler import MAX_INSTANCES, AutoScaler
from ..rules import autoscaler as scaler_rules
from ..rules import fleet as fleet_rules
from ..rules import hpa as rules
from ..rules import server as server_rules
from .behavior import HPABehavior

POD_METRICS = {"requests_in_flight": rules.IN_FLIGHT, "requests_per_second": rules.RPS}
EXTERNAL_METRICS = ("queue_depth",)


@dataclass(frozen=True)
class ResourceMetric:
    """CPU utilization: in service / concurrency, averaged over the HPA's metric window,
    as a fraction of ``target_utilization`` (Kubernetes takes an integer percent: the
    target is rounded to one, the utilization truncated to one)."""

    target_utilization: float

    def __post_init__(self):
        validate.number("ResourceMetric.target_utilization", self.target_utilization,
                        minimum=0.005, maximum=100.0)

    def code(self):
        return rules.CPU, float(self.target_utilization)


@dataclass(frozen=True)
class PodsMetric:
    """A per-pod metric averaged over the ready pods: ``requests_in_flight`` (in service
    plus queued at the pod, over the metric window) or ``requests_per_second`` (the load
    balancer's arrivals since the previous sync, per ready pod)."""

    name: str
    target_average_value: float

    def __post_init__(self):
        if self.name not in POD_METRICS:
            raise ValueError(f"PodsMetric.name must be 'requests_in_flight' or "
                             f"'requests_per_second', got {self.name!r}")
        validate.number("PodsMetric.target_average_value", self.target_average_value,
                        minimum=0.001)

    def code(self):
        return POD_METRICS[self.name], float(self.target_average_value)


@dataclass(frozen=True)
class ExternalMetric:
    """A metric outside the pods: ``queue_depth``, the backends' total queue (averaged
    over the metric window), against ``target_value`` (the total) or
    ``target_average_value`` (per pod); exactly one of them."""

    name: str
    target_value: float | None = None
    target_average_value: float | None = None

    def __post_init__(self):
        if self.name not in EXTERNAL_METRICS:
            raise ValueError(f"ExternalMetric.name must be 'queue_depth', got {self.name!r}")
        if (self.target_value is None) == (self.target_average_value is None):
            raise ValueError("ExternalMetric needs exactly one of target_value and "
                             f"target_average_value, got target_value={self.target_value!r}, "
                             f"target_average_value={self.target_average_value!r}")
        for f in ("target_value", "target_average_value"):
            v = getattr(self, f)
            if v is not None:
                validate.number(f"ExternalMetric.{f}", v, minimum=0.001)

    def code(self):
        if self.target_value is not None:
            return rules.QUEUE_VALUE, float(self.target_value)
        return rules.QUEUE_AVERAGE, float(self.target_average_value)


METRIC_TYPES = (ResourceMetric, PodsMetric, ExternalMetric)
CONTROLLER_SETTINGS = ("sync_period", "tolerance", "metric_window",
                       "cpu_initialization_period", "initial_readiness_delay")


class HorizontalPodAutoscaler(AutoScaler):
    """The Kubernetes HorizontalPodAutoscaler (docs/kubernetes.md).

    Every ``sync_period`` seconds from start(): each metric proposes a replica count (the
    replica calculator: the usage ratio to the target outside ``tolerance``, unready and
    metric-less pods as Kubernetes treats them); the largest proposal is stabilized and
    rate-limited by ``behavior`` and bounded by min/max replicas; the load balancer gets
    or loses that many backends (made by ``server_factory``, named ``<name>_server_<k>``;
    removals in the ReplicaSet's order: not ready first, then the most recently ready).

    Args:
        name: Identifier.
        load_balancer: The LoadBalancer whose backends are the pods (built-in Servers).
        server_factory: Creates a new server given its name.
        min_replicas, max_replicas: Bounds of the replica count (minReplicas >= 1).
        metrics: ResourceMetric / PodsMetric / ExternalMetric list (None: CPU
            utilization at 80 %, Kubernetes' default).
        behavior: HPABehavior (None: Kubernetes' defaults).
        sync_period: Seconds between syncs (--horizontal-pod-autoscaler-sync-period).
        tolerance: The band around a usage ratio of 1 with no change (per direction
            overridable in the behavior).
        metric_window: Seconds over which pod metrics are averaged (the metrics
            pipeline's window); a CPU sample younger than this after a pod became ready
            is not trusted inside the initialization period.
        cpu_initialization_period, initial_readiness_delay: Kubernetes' CPU readiness
            rules (seconds).

    ``stats`` are AutoScalerStats: ``evaluations`` counts syncs and ``cooldown_blocks``
    the syncs at which the behavior (stabilization or a rate policy) held the bounded
    proposal back.
    """

    def __init__(self, name: str, load_balancer, server_factory: Callable[[str], Entity], *,
                 min_replicas: int = 1, max_replicas: int = 10, metrics=None, behavior=None,
                 sync_period: float = 15.0, tolerance: float = 0.1, metric_window: float = 30.0,
                 cpu_initialization_period: float = 300.0,
                 initial_readiness_delay: float = 30.0):
        Entity.__init__(self, name)
        self.load_balancer, self.server_factory = check_fleet(load_balancer, server_factory)
        self.min_replicas, self.max_replicas = instance_bounds(
            "min_replicas", min_replicas, "max_replicas", max_replicas, low_minimum=1,
            maximum=MAX_INSTANCES)
        if metrics is None:
            metrics = [ResourceMetric(0.8)]
        if isinstance(metrics, METRIC_TYPES):
            raise TypeError("metrics must be a list of metrics, got one metric: wrap it in "
                            "[...]")
        metrics = list(metrics)
        if not 1 <= len(metrics) <= rules.MAX_METRICS:
            raise ValueError(f"metrics must hold 1 to {rules.MAX_METRICS} metrics, got "
                             f"{len(metrics)}")
        for i, m in enumerate(metrics):
            if not isinstance(m, METRIC_TYPES):
                raise TypeError(f"metrics[{i}] must be a ResourceMetric, PodsMetric or "
                                f"ExternalMetric, got {m!r}")
        self.metrics = metrics
        if behavior is None:
            behavior = HPABehavior()
        if not isinstance(behavior, HPABehavior):
            raise TypeError(f"behavior must be an HPABehavior or None, got {behavior!r}")
        self.behavior = behavior
        self.sync_period = interval("sync_period", sync_period)
        if self.sync_period < rules.MIN_SYNC_PERIOD:
            raise ValueError(f"sync_period must be >= {rules.MIN_SYNC_PERIOD} s, got "
                             f"{sync_period!r}")
        self.tolerance = validate.number("tolerance", tolerance, minimum=0.0)
        self.metric_window = validate.seconds("metric_window", metric_window)
        error = scaler_rules.window_error(self.metric_window, self.sync_period,
                                          "metric_window", "sync_period")
        if error:
            raise ValueError(error)
        self.cpu_initialization_period = validate.seconds("cpu_initialization_period",
                                                          cpu_initialization_period)
        self.initial_readiness_delay = validate.seconds("initial_readiness_delay",
                                                        initial_readiness_delay)
        self.policy = None
        self.scale_out_cooldown = 0.0
        self.scale_in_cooldown = 0.0
        self._running = False
        self._chain = 0
        self._state = np.zeros(scaler_rules.FIELDS, np.int64)
        scaler_rules.reset(self._state)
        self._hpa = np.zeros(rules.FIELDS, np.int64)
        self._recs = np.zeros((rules.REC_CAPACITY, rules.REC_COLUMNS), np.int64)
        self._events = np.zeros((rules.EVENT_CAPACITY, rules.EVENT_COLUMNS), np.int64)
        self._params = self._param_row()
        self._history = []
        self._managed = []
        self._policy_memory = np.zeros(0, np.float64)

    # The AutoScaler's names for the shared parameters.
    @property
    def min_instances(self) -> int:
        return self.min_replicas

    @property
    def max_instances(self) -> int:
        return self.max_replicas

    @property
    def evaluation_interval(self) -> float:
        return self.sync_period

    def param_values(self) -> list[tuple[str, float]]:
        """(path, value) of every parameter, in the rules' layout from
        autoscaler.P_POLICY (the lowering adds the same paths)."""
        out = [("tolerance", self.tolerance),
               ("cpu_initialization_period", self.cpu_initialization_period),
               ("initial_readiness_delay", self.initial_readiness_delay),
               ("", float(len(self.metrics)))]
        for i in range(rules.MAX_METRICS):
            if i < len(self.metrics):
                kind, target = self.metrics[i].code()
                out += [("", float(kind)), (f"metrics.{i}.target", target)]
            else:
                out += [("", 0.0), ("", 0.0)]
        row = self.behavior.row()
        for d, dname in ((rules.UP, "scale_up"), (rules.DOWN, "scale_down")):
            b = d * rules.DIR_FIELDS
            npol = int(row[b + rules.B_NPOLICIES])
            for f in range(rules.DIR_FIELDS):
                path = ""
                if f == rules.B_WINDOW:
                    path = f"behavior.{dname}.stabilization_window"
                elif f == rules.B_TOLERANCE and row[b + f] >= 0:
                    path = f"behavior.{dname}.tolerance"
                elif f >= rules.B_POLICIES:
                    k, c = divmod(f - rules.B_POLICIES, rules.POLICY_FIELDS)
                    if k < npol and c == 1:
                        path = f"behavior.{dname}.policies.{k}.value"
                    elif k < npol and c == 2:
                        path = f"behavior.{dname}.policies.{k}.period"
                out.append((path, float(row[b + f])))
        return out

    def _param_row(self) -> np.ndarray:
        head = [float(self.min_replicas), float(self.max_replicas), float(self.sync_period),
                0.0, 0.0, float(self.metric_window)]
        return np.array(head + [v for _, v in self.param_values()], np.float64)

    def _begin_run(self, now_ns: int) -> None:
        super()._begin_run(now_ns)
        stats = getattr(self.load_balancer, "stats", None)
        rules.begin_run(self._hpa, int(getattr(stats, "requests_received", 0)), now_ns)

    def _evaluate(self):
        lb = self.load_balancer
        backends = lb.all_backends
        current = len(backends)
        now = self._clock.now_ns
        window = int(scaler_rules.window_ns(self._params))
        start = int(self._clock.run.fleet[fleet_rules.START_NS])
        q = self._params[scaler_rules.P_POLICY:]
        samples = np.zeros((max(current, 1), rules.S_COLUMNS), np.int64)
        for b in backends:
            if getattr(b, "_state", None) is None or not hasattr(b, "observed"):
                raise TypeError(f"{self.name}: the HPA reads its pods' metrics from built-in "
                                f"Servers; {b!r} is not one")
        since, slot = self._window(now)
        for i, b in enumerate(backends):
            st = b._state
            _, depth, busy = b.observed(now, since, slot)
            rules.sample(samples[i], busy, depth, int(st[server_rules.CONCURRENCY]),
                         int(st[server_rules.READY]), int(st[server_rules.BORN_NS]),
                         int(st[server_rules.BOOT_NS]), start, now, window, q)
        received = int(getattr(getattr(lb, "stats", None), "requests_received", 0))
        change = int(rules.sync(self._state, self._hpa, self._params, samples, self._recs,
                                self._events, current, received, now))
        if change > 0:
            self._scale_out(current, change, now)
        elif change < 0:
            out = np.zeros(-change, np.int64)
            k = int(rules.choose_victims(samples, current, -change, out))
            victims = [backends[p] for p in out[:k]]
            for v in victims:
                lb.remove_backend(v)
            self._managed = [s for s in self._managed if all(s is not v for v in victims)]
            if k:
                self._record("scale_in", current, current - k, f"Removed {k} instances")
                scaler_rules.scaled(self._state, scaler_rules.SCALE_IN, k, now)
        self._schedule_mark()

    @classmethod
    def from_manifest(cls, source, load_balancer, server_factory, *, name=None, **controller):
        """An HPA from an autoscaling/v2 HorizontalPodAutoscaler manifest: a YAML file
        path, YAML text or a parsed mapping. It gives minReplicas, maxReplicas, metrics
        (Resource cpu with averageUtilization; Pods requests_in_flight /
        requests_per_second with averageValue; External queue_depth with value or
        averageValue) and behavior; any other field is refused with its path. The name
        is ``name``, else metadata.name. ``controller``: the controller's settings, which
        are flags of kube-controller-manager rather than manifest fields (sync_period,
        tolerance, metric_window, cpu_initialization_period, initial_readiness_delay)."""
        from . import manifest

        meta_name, kwargs = manifest.parse(manifest.read(source))
        name = name if name is not None else meta_name
        if name is None:
            raise ValueError("from_manifest needs a name: give name= or metadata.name")
        for k in controller:
            if k not in CONTROLLER_SETTINGS:
                raise TypeError(f"from_manifest got an unexpected keyword argument {k!r}; "
                                f"controller settings: {', '.join(CONTROLLER_SETTINGS)}")
        return cls(name, load_balancer, server_factory, **kwargs, **controller)

    def __repr__(self):
        return (f"HorizontalPodAutoscaler({self.name!r}, min_replicas={self.min_replicas}, "
                f"max_replicas={self.max_replicas}, metrics={self.metrics!r})")
