"""The HTTP service: a thin FastAPI shell over the library (``socialcredit serve``).

``create_app(ledger_url, clock=…)`` builds the application; routes parse the request,
authorise its key's role and call the library, as the CLI's commands do. See the README's
"Run the service".
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from socialcredit._lazy import lazy_exports

if TYPE_CHECKING:
    from socialcredit.api.app import create_app

__getattr__, __dir__ = lazy_exports(__name__, {"create_app": "socialcredit.api.app"})

__all__ = ["create_app"]
