"""The object engine: time, events, entities and the event loop."""
