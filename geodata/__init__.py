"""Files and coordinate systems: the lower layer of GridLaw, knowing nothing of the ORM.

Modules
-------
- :mod:`geodata.crs`: WGS84, GCJ-02 (Amap), BD-09 and projected systems, for points and
  geometries; coordinate parsing and checks;
- :mod:`geodata.io`: reading and writing tables and vector files, with limits;
- :mod:`geodata.pointindex`: which grid (polygon with a ``code``) a point is in, with snapping;
- :mod:`geodata.demo`: the synthetic Yude / Huanshi demo data set;
- :mod:`geodata.errors`: the errors raised on purpose (``ValueError`` subclasses).

Nothing is imported here: ``import geodata.io`` loads only what it needs. ``geodata`` never
imports ``grid_model``.
"""
