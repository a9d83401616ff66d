"""Servers, load balancers, traffic sources and service-time distributions."""
