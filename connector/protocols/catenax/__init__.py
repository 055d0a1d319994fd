"""Catena-X (CX-0136 PCF exchange): the PCF API our EDC's data plane proxies to (``router``), the io.catenax.pcf
payload we write (``pcf_model``) and read (``pcf``: its values as an entered upstream value, also for imported files;
``reading``: a received PCF for the core's receipt), our EDC's Management API (``edc``) and the adapter between them
and the exchange core (``adapter.ADAPTER``). See docs/catena-x.md and docs/decisions/0023-catena-x-pcf-exchange.md.
"""
