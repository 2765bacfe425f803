"""Open311 GeoReport v2 on the needs: the services (categories), requests (needs) and updates
(status changes) as the API gives them. Every check is the needs services' own
(:mod:`grid_model.needs.cases`); this package only translates.

- :mod:`~grid_model.open311.services` — the service list and each service's attributes;
- :mod:`~grid_model.open311.steps` — the one table from Open311/FixMyStreet statuses to case
  steps and back;
- :mod:`~grid_model.open311.requests` — a request in, requests out (redacted, public
  coordinates at grid level);
- :mod:`~grid_model.open311.updates` — status updates in and out;
- :mod:`~grid_model.open311.intake` — a request with its photo and idempotency key, in one
  write transaction.
"""
