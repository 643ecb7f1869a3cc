"""``edgegate calibrate``: fit a profile's cost-model constants to a user's own board.

- :mod:`.board` reads the user's measurements, fits and writes the calibrated profile;
- :mod:`.fit` is the fitting core (NNLS in relative error with physical bounds and priors),
  shared with the catalogue's fitting pipeline in ``bench/fitting/``;
- :mod:`.stats` scores predictions against measurements.

Submodules are not imported here, so importing the package stays cheap.
"""

from __future__ import annotations
