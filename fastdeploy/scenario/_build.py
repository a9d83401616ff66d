"""Plan -> Simulation: each constructor checks its own arguments; a refusal becomes a
ScenarioError at the key the refused value was written at."""

from __future__ import annotations

import re

from ..core.simulation import Simulation
from ..core.temporal import MAX_SECONDS
from ..deployment import AutoScaler, CanaryDeployer, RollingDeployer
from ..flagger import FlaggerCanary
from ..kubernetes.hpa import HorizontalPodAutoscaler
from ..model.load_balancer import LoadBalancer
from ..model.server import Server
from ..model.source import Source
from ._parse import STRATEGIES, Call, ComponentPlan, Field, Plan, ServerConfig
from ._reader import Context

_LEAD = re.compile(r"^(\w+)(\[\d+\])?")
COMPONENTS = {"autoscaler": AutoScaler, "canary": CanaryDeployer, "rolling": RollingDeployer,
              "hpa": HorizontalPodAutoscaler, "flagger": FlaggerCanary}


def blame(exc: Exception, args: dict[str, Field], default: str) -> str:
    """The key of the argument a constructor's message is about: the message starts with
    the argument's name (``target must be ...``, ``points[1] time ...``) or mentions it."""
    msg = str(exc)
    m = _LEAD.match(msg)
    if m and m.group(1) in args:
        return args[m.group(1)].key + (m.group(2) or "")
    for name, f in args.items():
        if re.search(rf"\b{re.escape(name)}\b", msg):
            return f.key
    return default


def construct(ctx: Context, cls, args: dict[str, Field], key: str, *positional, **values):
    """``cls(*positional, **values)``; a ValueError/TypeError becomes a ScenarioError."""
    try:
        return cls(*positional, **values)
    except (ValueError, TypeError) as e:
        where = blame(e, args, key)
        msg = str(e)
        # "target must be <= 1.0, got 1.6" at key ...policy.target: drop the repeated name.
        last = where.rsplit(".", 1)[-1]
        if msg.startswith(last + " "):
            msg = msg[len(last) + 1:]
        raise ctx.error(where, msg) from None


def make(ctx: Context, call: Call):
    """Build a Call (a distribution, profile, policy, evaluator or stage); Calls among
    its arguments (a KayentaJudge's metrics) are built first."""
    def built(v):
        if isinstance(v, Call):
            return make(ctx, v)
        if isinstance(v, list) and any(isinstance(x, Call) for x in v):
            return [built(x) for x in v]
        return v

    return construct(ctx, call.cls, call.args, call.key,
                     **{k: built(f.value) for k, f in call.args.items()})


def server(ctx: Context, name: str, config: ServerConfig, key: str) -> Server:
    values = {k: make(ctx, f.value) if isinstance(f.value, Call) else f.value
              for k, f in config.fields.items()}
    return construct(ctx, Server, config.fields, key, name, **values)


def _check_time(ctx: Context, at: Field, start: float) -> None:
    if not (start <= at.value < MAX_SECONDS):  # also refuses nan
        raise ctx.error(at.key, f"must be >= simulation.start_time ({start} s) and a finite "
                                f"time in seconds, got {at.value}")


def build(plan: Plan, ctx: Context, seed: int | None = None) -> Simulation:
    """A fresh Simulation of ``plan`` with its start and deploy events scheduled."""
    sim_args = plan.simulation
    start = sim_args["start_time"].value if "start_time" in sim_args else 0

    # The horizon and seed first: later checks (start_at, deploy_at) rely on them.
    values = {k: f.value for k, f in sim_args.items()}
    construct(ctx, Simulation, sim_args, "simulation", **values)

    for name, config in plan.templates.items():  # unused templates are checked too
        server(ctx, f"{name}_template", config, f"templates.{name}")

    servers = {s.name: server(ctx, s.name, s.config, s.key) for s in plan.servers}
    lbs = {}
    for p in plan.load_balancers:
        backends = [servers[n] for n in p.backends]
        strategy = STRATEGIES[p.strategy.value]()
        if p.weights is None:
            lb = construct(ctx, LoadBalancer, {}, p.key, p.name, backends=backends,
                           strategy=strategy)
        else:
            # Initial backends with weights: what the constructor does for weight 1, so
            # they are not counted as added (backends_added counts changes to the fleet).
            lb = construct(ctx, LoadBalancer, {}, p.key, p.name, strategy=strategy)
            for b, w in zip(backends, p.weights):
                construct(ctx, lb._insert, {"weight": w}, w.key, b, w.value)
        lbs[p.name] = lb

    sources = []
    for p in plan.sources:
        target = lbs.get(p.target.value) or servers[p.target.value]
        args = {k: f for k, f in (("rate", p.rate), ("poisson", p.poisson),
                                  ("stop_after", p.stop_after)) if f is not None}
        rate = make(ctx, p.profile) if p.profile is not None else p.rate.value
        kw = {k: f.value for k, f in args.items() if k != "rate"}
        sources.append(construct(ctx, Source, args, p.key, p.name, rate, target, **kw))

    components = []
    for p in plan.components:
        components.append(component(ctx, p, lbs[p.load_balancer.value]))
        if p.at is not None:
            _check_time(ctx, p.at, start)

    # Servers no load balancer lists (a source's target) are found through the source.
    entities = list(lbs.values()) + components
    if seed is not None:
        values["seed"] = seed
    sim = construct(ctx, Simulation, sim_args, "simulation", sources=sources,
                    entities=entities, **values)
    # start()/deploy() read the clock the Simulation gives its entities: events after it.
    for p, c in zip(plan.components, components):
        at = None if p.at is None else p.at.value
        sim.schedule(c.start(at=at) if p.kind in ("autoscaler", "hpa") else c.deploy(at=at))
    return sim


class ServerFactory:
    """A component's ``server_factory``: servers of one template (a class, not a closure,
    so a built Simulation pickles with the standard pickle)."""

    def __init__(self, ctx: Context, config: ServerConfig, key: str):
        self.ctx = ctx
        self.config = config
        self.key = key

    def __call__(self, name: str) -> Server:
        return server(self.ctx, name, self.config, self.key)

    def __repr__(self):
        return f"<server factory of {self.key}>"


def component(ctx: Context, p: ComponentPlan, lb: LoadBalancer):
    """An AutoScaler, CanaryDeployer or RollingDeployer whose factory builds servers of its
    template (checked once here, so the factory cannot fail later)."""
    server(ctx, f"{p.name}_template", p.template, p.template_key)
    factory = ServerFactory(ctx, p.template, p.template_key)

    values = {}
    fields: dict[str, Field] = {}
    for k, v in p.args.items():
        if isinstance(v, Call):
            values[k] = make(ctx, v)
            fields[k] = Field(None, v.key)
        elif k == "manifest":  # its fields were checked when the file was read
            values.update(v.value[1])
            fields.update({a: v for a in v.value[1]})
        elif k in ("stages", "metrics"):
            values[k] = [make(ctx, c) for c in v.value]
            fields[k] = v
        else:
            values[k] = v.value
            fields[k] = v
    return construct(ctx, COMPONENTS[p.kind], fields, p.key, p.name, lb, factory, **values)
