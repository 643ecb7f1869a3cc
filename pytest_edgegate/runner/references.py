"""The reference networks the host translation divides a model's host ratio by.

Three NAS-Bench-201 networks, built as the HW-NAS-Bench-360 Pi 5 ONNX Runtime export
(CIFAR-100 head, ``none`` edges kept as ``Mul(x, 0)``), seeded weights.
"""

from __future__ import annotations

import numpy as np

#: The export variant's classifier width (CIFAR-100).
NUM_CLASSES = 100

#: NAS-Bench-201 networks whose host ratio the model's is divided by
#: (:mod:`pytest_edgegate.runner.paired`).  The device profiles' constants are fitted on
#: NAS-Bench-201 networks, so these are the family on which the estimate is right by
#: construction; chosen on the fitting split of the Pi 5 ONNX Runtime column (HW-NAS-Bench-360,
#: seeded sample of 300): MACs at the sample's
#: median (47-51 M) and the cortex-a76 estimate within 1 % of the Pi 5's measured latency
#: (4.74, 4.67 and 5.40 ms), three different cells.  Built as that column's export variant
#: (CIFAR-100 head, ``none`` edges kept), seeded weights.
REFERENCE_ARCHS = (
    "|nor_conv_3x3~0|+|nor_conv_1x1~0|skip_connect~1|+|none~0|avg_pool_3x3~1|none~2|",
    "|skip_connect~0|+|skip_connect~0|skip_connect~1|+|nor_conv_1x1~0|nor_conv_3x3~1|avg_pool_3x3~2|",
    "|nor_conv_1x1~0|+|avg_pool_3x3~0|avg_pool_3x3~1|+|avg_pool_3x3~0|nor_conv_3x3~1|nor_conv_1x1~2|",
)


def reference_networks() -> list[tuple[str, bytes, dict[str, np.ndarray], dict[str, float]]]:
    """(name, model bytes, feeds, work by kernel kind) of each reference network; the work
    comes from :mod:`.reference_work` (the networks are built, not analysed)."""
    from pytest_edgegate.runner.nb201 import build_nb201
    from pytest_edgegate.runner.reference_work import REFERENCE_WORK

    x = np.random.default_rng(20240521).standard_normal((1, 3, 32, 32), dtype=np.float32)
    out = []
    for i, (arch, work) in enumerate(zip(REFERENCE_ARCHS, REFERENCE_WORK, strict=True)):
        model = build_nb201(arch, num_classes=NUM_CLASSES, keep_none=True)
        out.append((f"reference{i}", model.SerializeToString(), {"input": x}, dict(work)))
    return out


def compute_reference_work() -> tuple[dict[str, float], ...]:
    """The reference networks' host work from their analysis (what :mod:`.reference_work`
    caches)."""
    from pytest_edgegate.analysis import analyze
    from pytest_edgegate.costmodel.host import host_work
    from pytest_edgegate.runner.nb201 import build_nb201

    return tuple(
        host_work(analyze(build_nb201(arch, num_classes=NUM_CLASSES, keep_none=True)))
        for arch in REFERENCE_ARCHS
    )


def _write_cache() -> None:
    """Regenerate :mod:`.reference_work` from :func:`compute_reference_work`."""
    import json
    import os
    from pathlib import Path

    path = Path(__file__).with_name("reference_work.py")
    text = path.read_text(encoding="utf-8")
    head = text[: text.index("# fmt: off\nREFERENCE_WORK")]
    rows = "".join(f"    {json.dumps(w)},  # noqa: E501\n" for w in compute_reference_work())
    body = f"# fmt: off\nREFERENCE_WORK: tuple[dict[str, float], ...] = (\n{rows})\n# fmt: on\n"
    tmp = path.with_suffix(".tmp")
    tmp.write_text(head + body, encoding="utf-8")
    os.replace(tmp, path)


if __name__ == "__main__":
    _write_cache()
