"""The protocol-neutral exchange core: grants, the request state machine, receipt and verification of answers,
propagation, and the outbox of intents with its worker. Wire protocols live in ``connector.protocols`` and are
reached by name only (docs/decisions/0016-protocol-seam.md)."""
