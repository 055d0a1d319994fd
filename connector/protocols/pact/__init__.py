"""PACT v3: wire models of its events, rendering of a footprint, the peer router (``/3``, ``/auth``), the client,
the read-path cache, and the adapter between them and the exchange core (``adapter.ADAPTER``).

Kept free of imports, so that importing one module of the package (``storage`` reads ``pact_reads``' columns, the
CLI ``events``) loads no router or service.
"""
