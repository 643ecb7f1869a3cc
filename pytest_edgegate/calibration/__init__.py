"""Calibration data path: rebuild the NAS-Bench-201 networks and read the HW-NAS measurements.

The cost model's per-profile constants are fitted on public real-device measurements of the
15,625 NAS-Bench-201 networks (``../shared/data/hwnas/``, see its README).  This package holds
that path:

* :mod:`.nb201` rebuilds any NAS-Bench-201 network as an ONNX graph, so the cost model sees
  the same graph a runtime ran;
* :mod:`.hwnas` reads the measurement files with the README's cleaning rules, splits them
  into fitting and reporting parts, and computes the fidelity statistics the issue asks for;
* :mod:`.explore` prints a first look at the data (``python -m
  pytest_edgegate.calibration.explore DATA_DIR``);
* :mod:`.networks` turns a rebuilt network into the graph a device saw (dead branches pruned,
  an int8 / int16 view) and analyses one network per distinct cell structure;
* :mod:`.columns` says which measured column calibrates which profile, on which graph, with
  which rows dropped;
* :mod:`.fit` fits cost-model constants on measured latencies and energies (NNLS in relative
  error, with physical bounds and documented priors), for ``bench/fit_profiles.py`` and for a
  user's own calibration.

The data is read in place, never copied into the project.  Submodules are not imported here
so that importing the package stays cheap (numpy / onnx load only when a submodule is used).
"""

from __future__ import annotations
