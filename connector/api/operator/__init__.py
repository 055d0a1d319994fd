"""The operator door: ``/api/v1``, for the company's own staff, authenticated by API key or a user's bearer token."""

from fastapi import APIRouter

from . import api_keys, declarations, exchange, footprints, part_links, partners, products, supplier_data, users

router = APIRouter(prefix="/api/v1")
for module in (products, footprints, supplier_data, partners, exchange, part_links, declarations, api_keys, users):
    router.include_router(module.router)
