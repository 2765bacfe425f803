"""Point-in-polygon index with snapping: which grid (polygon with a ``code``) is a point in?

Modules
-------
- :mod:`~geodata.pointindex.index`: :class:`GridIndex` (the raster, the shared-edge rule,
  snapping in geodesic metres) and :func:`locate` with its cache; the rules are in its docstring.
- :mod:`~geodata.pointindex.inputs`: checks of the grids and the points.
- :mod:`~geodata.pointindex.segments`: ring segments, shared edges.
- :mod:`~geodata.pointindex.geodesic`: geodesic distances to the edges (WGS 84, anywhere on
  Earth) and the exact nearest-edge search.
- :mod:`~geodata.pointindex.coastline`: synthetic coastline districts for tests and benchmarks.

No database and nothing of ``grid_model``: ``grid_model.needs.geolocate`` is the grid_model
side. Bad input raises :class:`geodata.errors.PointIndexError` (a ``ValueError``).
"""

from geodata.pointindex.index import QUALITIES, GridIndex, locate

__all__ = ["GridIndex", "locate", "QUALITIES"]
