"""`vbr batch TEMPLATE ROWS`: one render per row of variables."""

from __future__ import annotations

import argparse
import sys

from renderer.cli.common import add_cache_options, add_device_options, options_of
from renderer.cli.progress import JsonLines, json_failures
from renderer.errors import UsageError
from renderer.events import BatchDone, Event, RowDone, RowFailed, WarningEvent


def register(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser("batch", help="render a template once per row of a CSV/YAML/JSON table")
    parser.add_argument("template", metavar="TEMPLATE", help="a project file with a vars block")
    parser.add_argument("rows", metavar="ROWS", help="CSV with a header row, or a YAML/JSON list of mappings")
    parser.add_argument("-j", "--jobs", type=int, default=1, metavar="N", help="render N rows at once in worker processes (default 1)")
    parser.add_argument("--fail-fast", action="store_true", help="stop at the first bad or failed row")
    parser.add_argument("--out-dir", metavar="DIR", help="where outputs must lie; relative export paths land here (default: the template's directory)")
    shown = parser.add_mutually_exclusive_group()
    shown.add_argument("--quiet", "-q", action="store_true", help="only errors and warnings")
    shown.add_argument("--json", action="store_true", help="NDJSON events on stdout: one per row, then 'batch'")
    parser.add_argument("--force", action="store_true", help="render every row even if its output is up to date")
    parser.add_argument(
        "--ray", nargs="?", const="local", metavar="ADDRESS",
        help="render rows as tasks on a Ray cluster: no ADDRESS starts Ray on this machine; "
        "'auto', HOST:6379 or ray://HOST:10001 joins a cluster (needs the ray extra)",
    )
    parser.add_argument("--ray-cpus-per-row", type=int, metavar="N", help="with --ray: CPUs each row asks for, and its model threads (default 1)")
    add_device_options(parser)
    add_cache_options(parser, size=True)
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    import renderer.api as api

    if args.jobs < 1:
        raise UsageError("vbr batch: -j/--jobs must be at least 1")
    if args.ray_cpus_per_row is not None and args.ray is None:
        raise UsageError("vbr batch: --ray-cpus-per-row needs --ray")
    if args.ray_cpus_per_row is not None and args.ray_cpus_per_row < 1:
        raise UsageError("vbr batch: --ray-cpus-per-row must be at least 1")
    if args.ray is not None and args.jobs != 1:
        raise UsageError("vbr batch: -j and --ray do not mix: Ray runs as many rows at once as the cluster has CPUs for")
    executor = "local" if args.ray is None else "ray"
    ray = {} if args.ray is None else {"ray_address": args.ray, "cpus_per_row": 1 if args.ray_cpus_per_row is None else args.ray_cpus_per_row}
    options = options_of(args)
    options.cache_limit()  # a bad --cache-max-size is a usage error before any row is read
    shown = _Shown(args.json, args.quiet)
    with json_failures(args.json):
        try:
            plan = api.plan_batch(args.template, args.rows, args.out_dir, options, shown, fail_fast=args.fail_fast, executor=executor)
            shown.start(len(plan.jobs) + len(plan.failures))
            api.run_batch(plan, options, shown, jobs=args.jobs, force=args.force, fail_fast=args.fail_fast, executor=executor, **ray)
        finally:
            shown.close()
    codes = shown.failure_codes
    return 2 if 2 in codes else 1 if codes else 0  # an invalid row outranks a failed render


class _Shown:
    """Row status lines and an overall bar on stderr, or NDJSON on stdout."""

    def __init__(self, json: bool, quiet: bool):
        self.json = JsonLines() if json else None
        self.quiet = quiet
        self.bar = None
        self.failure_codes: set[int] = set()
        self.warned = False

    def start(self, rows: int) -> None:
        if self.json is None and not self.quiet and sys.stderr.isatty():
            from tqdm import tqdm

            self.bar = tqdm(total=rows, unit="row", desc="batch", file=sys.stderr, dynamic_ncols=True)

    def __call__(self, event: Event) -> None:
        if isinstance(event, RowFailed):
            self.failure_codes.add(event.exit_code)
        if self.json is not None:
            self.json(event)
            return
        if isinstance(event, WarningEvent):
            if not self.warned:
                self.warned = True
                self._line(f"vbr: warning: {event.message}")
        elif isinstance(event, RowFailed):
            self._line(event.message)
            self._advance()
        elif isinstance(event, RowDone):
            done = event.done
            if not self.quiet:
                if done.skipped:
                    self._line(f"{done.output}: up to date (row {event.row})")
                else:
                    self._line(
                        f"{done.output}: {done.frames} frames, {done.inferred_frames} inferred, "
                        f"{done.cached_frames} from cache, {done.seconds:.1f} s (row {event.row})"
                    )
            self._advance()
        elif isinstance(event, BatchDone) and not self.quiet:
            self.close()
            self._line(
                f"batch: {event.rendered} rendered, {event.skipped} up to date, {event.failed} failed"
                + (f", {event.cancelled} not run" if event.cancelled else "")
                + f" in {event.seconds:.1f} s; manifest {event.manifest}"
            )

    def _line(self, text: str) -> None:
        if self.bar is not None:
            self.bar.write(text, file=sys.stderr)
        else:
            print(text, file=sys.stderr)

    def _advance(self) -> None:
        if self.bar is not None:
            self.bar.update(1)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None
