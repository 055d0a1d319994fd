"""Catena-X: today a reader of its PCF data model (``io.catenax.pcf``), for importing a supplier's PCF file as an
entered upstream value (:mod:`.pcf`). The Catena-X exchange adapter will live here and reuse that reader."""
