"""``GET health/``: the health report for load balancers, compose and monitoring.

200 when every check passes, 503 when one fails. Anyone may ask (a load balancer cannot log
in), but only ``{"status": "ok" | "not ok"}`` is public: what is wrong, and where the broker
is, is shown to logged-in staff only (and by ``manage.py ivr_health``). ``?check=database``
(comma-separated names) runs only those checks, e.g. for a load balancer that should keep a
web server that can store webhooks in rotation while the broker is away.
"""

import logging

from django.http import JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

from .health import CHECKS, check_health

logger = logging.getLogger("telnyx_ivr.health")


@never_cache
@require_safe
def health(request):
    names = CHECKS
    asked = request.GET.get("check")
    if asked is not None:
        names = tuple(name.strip() for name in asked.split(",") if name.strip())
        unknown = sorted(set(names) - set(CHECKS)) or ([] if names else [asked])
        if unknown:
            return JsonResponse(
                {
                    "error": "unknown_check",
                    "detail": f"unknown check(s): {', '.join(map(repr, unknown))}; "
                    f"the checks are {', '.join(CHECKS)}",
                },
                status=400,
            )
    report = check_health(names)
    if not report.ok:
        logger.warning("Health check: %s", "; ".join(report.lines()))
    return JsonResponse(
        report.as_dict(details=_is_staff(request)), status=200 if report.ok else 503
    )


def _is_staff(request):
    # Reading the user needs the session's database: when it is down, nobody is staff.
    try:
        user = getattr(request, "user", None)
        return bool(user is not None and user.is_active and user.is_staff)
    except Exception:
        return False
