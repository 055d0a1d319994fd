"""Talking to other nodes: PACT v3 wire shapes and events, the peer client, the outbox worker."""
