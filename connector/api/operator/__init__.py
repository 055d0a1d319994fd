"""The operator door: ``/api/v1``, for the company's own staff, authenticated by API key."""

from fastapi import APIRouter

from . import declarations, exchange, footprints, keys, partners, products

router = APIRouter(prefix="/api/v1")
for module in (products, footprints, partners, exchange, declarations, keys):
    router.include_router(module.router)
