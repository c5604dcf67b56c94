"""Quality diversity: MAP-Elites over behaviour descriptors (``liandan evolve --search qd``).

:mod:`evo.qd.archive` wraps pyribs' CVT archive around our individuals; :mod:`evo.qd.core` is
the second generation core behind :class:`evo.driver.Driver` (the GA is :mod:`evo.ga`).
"""
