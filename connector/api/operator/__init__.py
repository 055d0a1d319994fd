"""The operator door: ``/api/v1``, for the company's own staff, authenticated by API key."""

from fastapi import APIRouter

from . import api_keys, declarations, exchange, footprints, partners, products, supplier_data

router = APIRouter(prefix="/api/v1")
for module in (products, footprints, supplier_data, partners, exchange, declarations, api_keys):
    router.include_router(module.router)
