"""One APIRouter per resource, collected in :data:`api_router` (under /api/v1) and
:data:`health_router` (at the root).

Every module of this package that defines ``router`` is included (the core ones first, then
the rest in name order), so a new resource is a new file here and nothing else."""

import importlib
import pkgutil

from fastapi import APIRouter

from ..schemas import ErrorBody
from . import health

CORE = ("auth", "users", "customers", "opportunities", "admin")

# declared on every API route: our error body replaces FastAPI's default 422 schema
api_router = APIRouter(
    prefix="/api/v1",
    responses={
        401: {"model": ErrorBody, "description": "missing, invalid or expired token"},
        422: {"model": ErrorBody, "description": "invalid input; details name each field"},
    },
)

_names = sorted(m.name for m in pkgutil.iter_modules(__path__) if m.name != "health")
for _name in [n for n in CORE if n in _names] + [n for n in _names if n not in CORE]:
    _module = importlib.import_module(f"{__name__}.{_name}")
    if hasattr(_module, "router"):
        api_router.include_router(_module.router)

health_router = health.router

__all__ = ["api_router", "health_router"]
