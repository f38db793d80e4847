"""One APIRouter per resource, collected in :data:`api_router` (under /api/v1) and
:data:`health_router` (at the root)."""

from fastapi import APIRouter

from ..schemas import ErrorBody
from . import admin, auth, customers, health, opportunities, users

# declared on every API route: our error body replaces FastAPI's default 422 schema
api_router = APIRouter(
    prefix="/api/v1",
    responses={
        401: {"model": ErrorBody, "description": "missing, invalid or expired token"},
        422: {"model": ErrorBody, "description": "invalid input; details name each field"},
    },
)
api_router.include_router(auth.router)
api_router.include_router(users.router)
api_router.include_router(customers.router)
api_router.include_router(opportunities.router)
api_router.include_router(admin.router)

health_router = health.router

__all__ = ["api_router", "health_router"]
