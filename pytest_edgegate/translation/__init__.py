"""From a host measurement to the device's latency.

- :mod:`.device`: the translation (the device estimate scaled by the model's host ratio);
- :mod:`.hostwork`: the arithmetic on host kernel speeds and paired rounds (numpy only);
- :mod:`.references`, :mod:`.nb201`: the reference networks timed beside the model.

The child-side timing loops are in :mod:`pytest_edgegate.runner` (``kernels``, ``paired``).
"""
