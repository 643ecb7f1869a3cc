"""The cost model: a deterministic estimate of latency and energy per device profile.

Pure functions of a :class:`~pytest_edgegate.analysis.ModelAnalysis` and a
:class:`~pytest_edgegate.profiles.DeviceProfile`: the same model and profile give bit-identical
numbers on every machine.  The model itself has no device-specific code paths; everything that
differs between devices is a constant in the profile's ``[costmodel]`` table, fitted on real
measurements (``bench/fit_profiles.py``) or derived from cited figures.

* :mod:`.terms` splits each node into physical terms (operations by class over the peak
  throughput of its data type, bytes over bandwidth, a dispatch), shared with the fitter;
* :mod:`.cpu` prices those terms on a CPU, with thread scaling;
* :mod:`.npu` places nodes on the NPU or its host CPU and prices both sides and the hops;
* :mod:`.energy` turns the priced terms into joules.
"""

from __future__ import annotations

from pytest_edgegate.costmodel.estimate import estimate
from pytest_edgegate.costmodel.estimates import (
    COSTMODEL_VERSION,
    CostModelUnavailable,
    Estimate,
    NodeCost,
)

__all__ = ["COSTMODEL_VERSION", "CostModelUnavailable", "Estimate", "NodeCost", "estimate"]
