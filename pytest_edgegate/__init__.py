"""pytest-edgegate: a pytest plugin that gates ONNX models against emulated edge-device budgets.

The package root stays import-light on purpose: pytest imports the plugin in every run of every
project that installs it, so heavy dependencies (onnx, onnxruntime, numpy, jinja2) are only
imported by the modules that need them, when they need them.
"""

__version__ = "0.1.0"
