"""The CRM's FastAPI gateway: users and tokens, REST over Nameko RPC (see README.md)."""

import warnings

# crm_common imports nameko, which imports eventlet (never monkey-patched here: the gateway is
# asyncio); silence eventlet's deprecation banner on every start.
warnings.filterwarnings("ignore", message=r"(?s).*Eventlet is deprecated")

__version__ = "0.1.0"
