"""Spatial statistics of needs (DESIGN §6).

Modules
-------
gistar
    The local Getis-Ord Gi* statistic and its ArcGIS-style confidence classes.
hotspots
    Gi* hot spots per grid and per H3 hexagon, read from the database
    (:func:`~grid_model.analysis.hotspots.hotspot_table`); explains the configuration.
hexagons
    H3 binning and contiguity, and Gi* over the hexagons of a study area.
emerging
    Emerging hot spots: Gi* on a space-time cube and a Mann-Kendall trend per grid.
"""
