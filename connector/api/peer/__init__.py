"""The peer door: what other companies tell us. PACT v3 (``/3``) and the OAuth2 token endpoint (``/auth``)."""

from fastapi import APIRouter

from . import auth, certify, pact

router = APIRouter()
router.include_router(auth.router)
router.include_router(pact.router)
router.include_router(certify.router)
