"""Every area's routes, in one list: service/app.py hands it to the core plugin."""

from __future__ import annotations

from typing import Any

from service.admission.routes import ROUTES as ADMISSION
from service.audit.routes import ROUTES as AUDIT
from service.calendar.routes import ROUTES as CALENDAR
from service.complaints.routes import ROUTES as COMPLAINTS
from service.counties.routes import ROUTES as COUNTIES
from service.decisions.routes import ROUTES as DECISIONS
from service.identity.routes import ROUTES as IDENTITY
from service.jurisdictions.routes import ROUTES as JURISDICTIONS
from service.ops.routes import ROUTES as OPS
from service.registry.routes import ROUTES as REGISTRY
from service.secondments.routes import ROUTES as SECONDMENTS
from service.web.routes import ROUTES as WEB
from service.workers.routes import ROUTES as WORKERS

ROUTES: list[Any] = [*OPS, *JURISDICTIONS, *IDENTITY, *WEB, *WORKERS, *SECONDMENTS, *REGISTRY, *AUDIT, *ADMISSION,
                      *COMPLAINTS, *CALENDAR, *COUNTIES, *DECISIONS]
