"""TFLite Micro's persistent arena (the tail): runtime structs and kernel op data.

Placeholder: filled in from measurements below.
"""

from __future__ import annotations


def persistent_bytes(nodes, sizes, shapes, pointer_bytes: int) -> int:
    return 0
