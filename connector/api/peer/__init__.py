"""The peer door: what other companies tell us. Each protocol's router (PACT v3: ``/3`` and the OAuth2 token endpoint
``/auth``), and our own certification route for verifier nodes (``/peer/v1/certifications``)."""

from fastapi import APIRouter

from ... import protocols
from . import certify

router = APIRouter()
for _adapter in protocols.adapters():
    router.include_router(_adapter.router)
router.include_router(certify.router)
