"""The ``edgegate`` console script: the catalogue and the static analysis outside pytest.

It reuses the same domain and adapter modules as the plugin and never touches pytest
internals, so what it prints is what a gated test would compute.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path

from pytest_edgegate import __version__
from pytest_edgegate.errors import EdgeGateError
from pytest_edgegate.report.document import DOCUMENT_SCHEMA

USAGE_ERROR = 4


def _cmd_targets(args: argparse.Namespace) -> int:
    from pytest_edgegate.catalogue_table import catalogue_table
    from pytest_edgegate.profiles import load_catalogue

    print(catalogue_table(load_catalogue(args.profiles), verbose=args.verbose))
    return 0


def _parse_shapes(items: Sequence[str]) -> dict[str, list[int]]:
    shapes = {}
    for item in items:
        name, sep, dims = item.rpartition("=")
        try:
            if not sep or not name:
                raise ValueError
            shapes[name] = [int(d) for d in dims.split("x")]
        except ValueError:
            raise EdgeGateError(f"--input-shape expects NAME=1x3x224x224, got {item!r}") from None
    return shapes


def _cmd_analyze(args: argparse.Namespace) -> int:
    from tabulate import tabulate

    from pytest_edgegate.analysis import analyze
    from pytest_edgegate.evaluation import device_fit, static_metrics
    from pytest_edgegate.formats import load as load_model
    from pytest_edgegate.profiles import load_catalogue

    analysis = analyze(load_model(args.model), _parse_shapes(args.input_shape) or None)
    metrics = {k: v.value for k, v in static_metrics(analysis).items()}
    if args.json:
        print(
            json.dumps(
                {"metrics": metrics, "analysis": analysis.to_dict()},
                indent=2,
                sort_keys=True,
                default=str,
            )
        )
        return 0
    print(f"{analysis.name}: {len(analysis.nodes)} nodes")
    print(
        tabulate(
            [[k, "unknown" if v is None else f"{v:.6g}"] for k, v in metrics.items()],
            headers=["metric", "value"],
            disable_numparse=True,
        )
    )
    top = sorted(analysis.nodes, key=lambda n: n.macs, reverse=True)[: args.top]
    print(
        tabulate(
            [[n.name, n.op_type, f"{n.macs / 1e6:.3f}", f"{n.flops / 1e6:.3f}"] for n in top],
            headers=["node", "op", "MACs (M)", "FLOPs (M)"],
            disable_numparse=True,
        )
    )
    for warning in analysis.warnings:
        print(f"warning: {warning}")
    if args.target:
        catalogue = load_catalogue(args.profiles)
        for target in args.target:
            profile = catalogue.get(target)
            plan = None
            if profile.is_mcu:
                from pytest_edgegate.mcu_memory import mcu_memory

                plan = mcu_memory(profile, analysis)
            verdicts, notes = device_fit(profile, analysis, mcu=plan)
            for v in verdicts:
                print(("fits   " if v.passed else "FAILS  ") + v.message(profile.id))
            for note in notes:
                print(f"note: {note}")
            if plan is not None:
                print(f"       {plan.summary()}")
    return 0


def _energy_text(est: object, profile: object) -> str:
    """The whole device's energy with its split (the table's mJ are the increase alone)."""
    from pytest_edgegate.costmodel.power import PowerUnavailable, device_energy

    try:
        e = device_energy(est, profile)
    except PowerUnavailable as exc:
        return f"n/a ({exc})"
    return (
        f"{e.energy_mj:.4f} mJ for the whole {e.covers} (idle floor {e.idle_floor_mj:.4f} + "
        f"increase {e.increase_mj:.4f}), {e.power_w:.3f} W"
    )


def _cmd_profile(args: argparse.Namespace) -> int:
    """Where the estimated time and energy of a model go on one target, node by node."""
    from tabulate import tabulate

    from pytest_edgegate.analysis import analyze
    from pytest_edgegate.costmodel import CostModelUnavailable, estimate
    from pytest_edgegate.formats import load as load_model
    from pytest_edgegate.profiles import load_catalogue

    profile = load_catalogue(args.profiles).get(args.target)
    analysis = analyze(load_model(args.model), _parse_shapes(args.input_shape) or None)
    try:
        est = estimate(analysis, profile, threads=args.threads)
    except CostModelUnavailable as exc:
        raise EdgeGateError(str(exc)) from None
    if args.json:
        print(json.dumps(est.to_dict(), indent=2, sort_keys=True))
        return 0
    nodes = sorted(est.nodes, key=lambda c: c.time_ms, reverse=True)
    shown = nodes if args.top <= 0 else nodes[: args.top]
    rows = [
        [
            c.name,
            c.op_type,
            c.device,
            f"{c.time_ms:.4f}",
            f"{100 * c.time_ms / est.latency_ms:.1f}",
            "" if c.energy_mj is None else f"{c.energy_mj:.4f}",
            c.bound,
            f"{c.macs / 1e6:.3f}",
            c.reason,
        ]
        for c in shown
    ]
    headers = ["node", "op", "device", "ms", "%", "mJ", "bound", "MACs (M)", "why on CPU"]
    print(f"{analysis.name} on {profile.id} ({est.threads} threads), cost model v{est.version}")
    print(tabulate(rows, headers=headers, disable_numparse=True, maxcolwidths=[40] * 8 + [50]))
    if len(shown) < len(nodes):
        print(f"... {len(nodes) - len(shown)} more nodes (--top 0 shows all)")
    print(f"latency {est.latency_ms:.4f} ms, energy {_energy_text(est, profile)}")
    if est.npu_coverage is not None:
        print(
            f"NPU: {100 * est.npu_coverage:.1f} % of MACs, {100 * est.npu_node_share:.1f} % of "
            f"nodes, {est.partitions} partition(s), transfers {est.transfer_ms:.4f} ms"
        )
    for note in est.notes:
        print(f"note: {note}")
    return 0


def _load_document(path: str) -> dict:
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise EdgeGateError(f"{path}: no such results file") from None
    except (OSError, ValueError, UnicodeDecodeError) as exc:
        raise EdgeGateError(f"{path}: not a readable edgegate JSON results file ({exc})") from None
    if not isinstance(data, dict) or not isinstance(data.get("results"), list):
        raise EdgeGateError(f"{path}: expected an edgegate results document with 'results'")
    if data.get("schema_version", 0) > DOCUMENT_SCHEMA:
        raise EdgeGateError(
            f"{path}: schema version {data['schema_version']} is newer than this edgegate "
            f"understands ({DOCUMENT_SCHEMA}); upgrade pytest-edgegate"
        )
    return data


def _cmd_merge(args: argparse.Namespace) -> int:
    """Combine the results of CI shards (one job per target, say) into one document."""
    from pytest_edgegate.report.document import build
    from pytest_edgegate.report.jsonio import write_json

    results: dict[tuple[str, str, int], dict] = {}
    env: dict = {}
    profiles: dict[str, str] = {}
    for path in args.inputs:
        doc = _load_document(path)
        env = env or dict(doc.get("environment", {}))
        profiles.update(doc.get("environment", {}).get("profiles", {}))
        counts: dict[tuple[str, str], int] = {}
        for r in doc["results"]:
            index = counts.get((r["nodeid"], r["target"]), 0)
            counts[(r["nodeid"], r["target"])] = index + 1
            key = (r["nodeid"], r["target"], index)
            if key in results:
                print(f"edgegate: warning: {r['nodeid']} appears in several shards; kept {path}")
            results[key] = r
    env["profiles"] = dict(sorted(profiles.items()))
    ordered = [results[k] for k in sorted(results)]
    write_json(args.output, build(ordered, env, None))
    print(f"edgegate: merged {len(ordered)} results from {len(args.inputs)} files -> {args.output}")
    return 0


def _cmd_report(args: argparse.Namespace) -> int:
    """Render and gate a results document after the fact; exit 1 on a failure or regression."""
    from pytest_edgegate.baseline import store as baseline_mod
    from pytest_edgegate.baseline.gate import compare, regressions
    from pytest_edgegate.baseline.regression import parse_thresholds
    from pytest_edgegate.costmodel import COSTMODEL_VERSION
    from pytest_edgegate.report.document import build
    from pytest_edgegate.report.github import in_actions, write_step_summary
    from pytest_edgegate.report.jsonio import write_json
    from pytest_edgegate.terminal import regression_lines

    doc = _load_document(args.results)
    comparison = None
    if args.baseline:
        data = baseline_mod.load(args.baseline)
        if data is None:
            raise EdgeGateError(f"baseline {args.baseline} does not exist")
        thresholds = parse_thresholds(args.regression, "--regression")
        comparison, problems = compare(
            doc["results"], data, thresholds, args.baseline, COSTMODEL_VERSION
        )
        for problem in problems:
            print(f"edgegate: warning: {problem}")
    trends = doc.get("trends")
    doc = build(doc["results"], doc.get("environment", {}), comparison, doc.get("generated"))
    if args.baseline:  # the baseline file's git history, as a pytest run with it reads it
        from pytest_edgegate.baseline.history import history
        from pytest_edgegate.report.trends import build_trends

        trends = build_trends(
            history(args.baseline), doc["results"], thresholds, COSTMODEL_VERSION, args.baseline
        )
    if trends:
        doc["trends"] = trends
    if args.html:
        from pytest_edgegate.report.html import write_html

        write_html(doc, args.html)
        print(f"edgegate: wrote HTML report {args.html}")
    if args.json:
        write_json(args.json, doc)
        print(f"edgegate: wrote JSON results {args.json}")
    if in_actions():
        write_step_summary(doc)
    failed = sum(s["failed"] + s["errors"] for s in doc["summary"].values())
    for target, s in doc["summary"].items():
        print(
            f"target {target}: {s['passed']} passed, {s['failed']} failed, {s['errors']} errors,"
            f" {s['regressed']} regressed"
        )
    for line in regression_lines(comparison or {}):
        print(line)
    return 1 if failed or regressions(comparison) else 0


def _cmd_export(args: argparse.Namespace) -> int:
    """Results in the JSON of github-action-benchmark's ``customSmallerIsBetter`` and
    ``customBiggerIsBetter`` tools (a list of name, unit, value), to chart them over commits."""
    from pytest_edgegate.metrics import METRICS
    from pytest_edgegate.report.jsonio import write_json

    doc = _load_document(args.results)
    better = "lower" if args.direction == "smaller" else "higher"
    rows = []
    for r in doc["results"]:
        for metric, value in sorted(r.get("metrics", {}).items()):
            spec = METRICS.get(metric)
            if spec is None or spec.better != better:
                continue
            source = r.get("sources", {}).get(metric, "")
            rows.append(
                {
                    "name": f"{r['nodeid']} {metric}",
                    "unit": spec.unit or "ratio",
                    "value": value,
                    "extra": f"model {r.get('model')}; target {r['target']}; source {source}",
                }
            )
    write_json(args.output, rows)
    print(f"edgegate: wrote {len(rows)} {args.direction}-is-better series to {args.output}")
    return 0


def _cmd_calibrate(args: argparse.Namespace) -> int:
    """Fit a base profile's cost-model constants on latencies measured on the user's board."""
    import datetime as dt
    import shlex

    from pytest_edgegate.calibrate import board as user
    from pytest_edgegate.profiles import load_catalogue

    output = Path(args.output)
    profile_id = args.id or output.stem
    if args.threads is not None and args.threads < 1:
        raise EdgeGateError(f"--threads must be at least 1, got {args.threads}")
    if not profile_id.strip() or any(c.isspace() for c in profile_id):
        raise EdgeGateError(f"--id must be a target id without spaces, got {profile_id!r}")
    catalogue = load_catalogue(args.profiles)
    base = catalogue.get(args.base)
    rows, warnings = user.read_measurements(args.measurements)
    for warning in warnings:
        print(f"edgegate: warning: {warning}")
    print(
        f"edgegate calibrate: {len(rows)} models from {args.measurements}, base profile "
        f"{base.id} ({base.name})"
    )
    cal = user.calibrate(rows, base, default_threads=args.threads)
    for line in user.report_lines(cal):
        print(line)
    date = args.date or dt.date.today().isoformat()
    command = shlex.join(
        ["edgegate", "calibrate", args.measurements, "--base", args.base, "-o", args.output]
        + (["--id", args.id] if args.id else [])
        + (["--threads", str(args.threads)] if args.threads else [])
        + [arg for path in args.profiles for arg in ("--profiles", path)]
    )
    text = user.profile_text(
        cal, profile_id=profile_id, csv_label=args.measurements, command=command, date=date
    )
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(text, encoding="utf-8")
    # The file is what users load: read it back the way --edge-profiles does.
    written = load_catalogue([*args.profiles, output]).get(profile_id)
    print(
        f"wrote {output} (id {written.id}, extends {base.id}); use it with: pytest "
        f"--edge-profiles={output} --edge-target={written.id}"
    )
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="edgegate", description="Edge-device budgets for ONNX models (pytest-edgegate)."
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    targets = sub.add_parser("targets", help="print the device catalogue")
    targets.add_argument(
        "--profiles",
        action="append",
        default=[],
        metavar="PATH",
        help="extra profile file or directory",
    )
    targets.add_argument("-v", "--verbose", action="store_true", help="show every source")
    targets.set_defaults(func=_cmd_targets)
    analyze = sub.add_parser("analyze", help="static analysis of an ONNX model")
    analyze.add_argument("model")
    analyze.add_argument("--input-shape", action="append", default=[], metavar="NAME=1x3x224x224")
    analyze.add_argument("--target", action="append", default=[], help="check device fit")
    analyze.add_argument("--profiles", action="append", default=[], metavar="PATH")
    analyze.add_argument("--top", type=int, default=10, help="nodes to list by MACs")
    analyze.add_argument("--json", action="store_true", help="print JSON instead of tables")
    analyze.set_defaults(func=_cmd_analyze)
    profile = sub.add_parser("profile", help="per-node cost-model breakdown on one target")
    profile.add_argument("model")
    profile.add_argument("--target", required=True)
    profile.add_argument("--threads", type=int, default=None, help="default: the target's cores")
    profile.add_argument("--input-shape", action="append", default=[], metavar="NAME=1x3x224x224")
    profile.add_argument("--profiles", action="append", default=[], metavar="PATH")
    profile.add_argument("--top", type=int, default=20, help="nodes to list, slowest first")
    profile.add_argument("--json", action="store_true", help="print JSON instead of a table")
    profile.set_defaults(func=_cmd_profile)
    merge = sub.add_parser("merge", help="combine JSON results of several runs or CI shards")
    merge.add_argument("inputs", nargs="+", metavar="RESULTS.json")
    merge.add_argument("-o", "--output", required=True, metavar="ALL.json")
    merge.set_defaults(func=_cmd_merge)
    report = sub.add_parser("report", help="render and gate a JSON results file")
    report.add_argument("results", metavar="RESULTS.json")
    report.add_argument("--html", metavar="PATH", help="write the HTML report here")
    report.add_argument("--json", metavar="PATH", help="write the gated document here")
    report.add_argument("--baseline", metavar="PATH", help="baseline to compare with")
    report.add_argument("--regression", default="", metavar="METRIC:THRESHOLD[,...]")
    report.set_defaults(func=_cmd_report)
    export = sub.add_parser("export", help="results for github-action-benchmark")
    export.add_argument("results", metavar="RESULTS.json")
    export.add_argument("-o", "--output", required=True)
    export.add_argument(
        "--direction", choices=("smaller", "bigger"), default="smaller",
        help="customSmallerIsBetter (size, latency, ...) or customBiggerIsBetter (coverage...)",
    )  # fmt: skip
    export.set_defaults(func=_cmd_export)
    calibrate = sub.add_parser(
        "calibrate",
        help="fit a profile's cost-model constants on latencies measured on your board",
        description="Fit the [costmodel] constants of --base on the models of MEASUREMENTS.csv "
        "(columns: model, latency_ms, optional energy_mj, threads, input_shapes; model paths "
        "relative to the CSV) and write a profile file that --edge-profiles loads.",
    )
    calibrate.add_argument("measurements", metavar="MEASUREMENTS.csv")
    calibrate.add_argument("--base", required=True, metavar="ID", help="profile to start from")
    calibrate.add_argument("-o", "--output", required=True, metavar="BOARD.toml")
    calibrate.add_argument("--id", help="target id of the new profile (default: file name)")
    calibrate.add_argument(
        "--threads", type=int, default=None, metavar="N",
        help="threads of rows without a threads column (default: the base profile's cores)",
    )  # fmt: skip
    calibrate.add_argument("--profiles", action="append", default=[], metavar="PATH")
    calibrate.add_argument("--date", help=argparse.SUPPRESS)  # reproducible files in tests
    calibrate.set_defaults(func=_cmd_calibrate)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except (EdgeGateError, KeyError, OSError) as exc:
        message = exc.args[0] if isinstance(exc, KeyError) else str(exc)
        print(f"edgegate: error: {message}", file=sys.stderr)
        return USAGE_ERROR


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
