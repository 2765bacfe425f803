"""Gaps in coverage and access (DESIGN §5).

Modules
-------
coverage
    :func:`~grid_model.gaps.coverage.find_coverage_gaps`: spatial, staffing, outreach,
    service and access gaps, each as a map layer and a list.
access
    Who lives beyond walking distance of a service point, which area is beyond it, and where
    new points would help most (:func:`~grid_model.gaps.access.suggest_service_points`).
distance
    Straight-line distance to the nearest service point, in metres.
"""
