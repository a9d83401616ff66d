"""``happysimulator.load``: re-exports of fastdeploy's sources, providers and profiles."""

from ..model.arrival_providers import (ArrivalTimeProvider, ConstantArrivalTimeProvider,
                                       PoissonArrivalTimeProvider)
from ..model.event_providers import EventProvider, SimpleEventProvider
from ..model.profiles import ConstantRateProfile, LinearRampProfile, Profile, SpikeProfile
from ..model.source import Source

__all__ = ["ArrivalTimeProvider", "ConstantArrivalTimeProvider", "ConstantRateProfile",
           "EventProvider", "LinearRampProfile", "PoissonArrivalTimeProvider", "Profile",
           "SimpleEventProvider", "Source", "SpikeProfile"]
