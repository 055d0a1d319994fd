"""The Ouranos Ecosystem data-transaction system (DTS) API v3.0.0, served by this node for its own company (an
Ouranos application drives the node: ``server.py``). The participant side, the node reaching partners on an Ouranos
platform, belongs next to it (``client.py``, ``adapter.py``). See docs/decisions/0021-ouranos-dts-server.md."""
