"""The backend conformance suite: what every eventstore backend guarantees."""
