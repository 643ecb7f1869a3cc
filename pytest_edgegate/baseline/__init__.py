"""The committed baseline: storing it, reading it from git, and judging a run against it.

- :mod:`.store`: the baseline file (versioned JSON, merged updates, atomic writes);
- :mod:`.gitref`: ``--edge-baseline git:REF``, the same models at another commit;
- :mod:`.regression`: thresholds and the metric-by-metric comparison;
- :mod:`.gate`: one comparison of a run with a baseline, shared by the plugin and the CLI;
- :mod:`.history`: the baseline file's past commits, for the report's trends;
- :mod:`.nodes`: per-node estimated times kept in the baseline, and what changed.
"""
