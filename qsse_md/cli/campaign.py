"""``qsse-md campaign``: plan, run, status, collect, analyze, jobscript."""

from __future__ import annotations

import sys
from pathlib import Path

from qsse_md.cli._options import temperature_kelvin
from qsse_md.md.protocol import PLATFORMS


def _plan(args) -> None:
    from qsse_md.campaign import plan

    manifest = plan(args.file, args.out)
    print(f"planned {len(manifest['tasks'])} task(s) of campaign {manifest['name']} in {args.out}/")
    for task in manifest["tasks"]:
        print(f"  {task['id']}  " + "  ".join(f"{k}={v}" for k, v in task["variables"].items()))


def _failed_exit_code(records, campaign_dir) -> int:
    """1 (and a line on stderr) when tasks ended failed, else 0."""
    failed = [record for record in records if record["state"] == "failed"]
    if failed:
        print(f"qsse-md: {len(failed)} task(s) failed; their reasons: qsse-md campaign status {campaign_dir}",
              file=sys.stderr)
    return 1 if failed else 0


def _run(args) -> int:
    from qsse_md.campaign import format_status, run_campaign, status

    records = run_campaign(args.dir, scheduler=args.scheduler, workers=args.workers, retries=args.retries,
                           platform=args.platform)
    print(format_status(status(args.dir)))
    return _failed_exit_code(records, args.dir)


def _status(args) -> None:
    from qsse_md.campaign import format_status, status

    print(format_status(status(args.dir)))


def _collect(args) -> None:
    from qsse_md.campaign import collect

    table = collect(args.dir, args.out)
    out = Path(args.out or Path(args.dir) / "results")
    done = int((table["state"] == "done").sum()) if len(table) else 0
    print(f"collected {len(table)} task(s) ({done} done) into {out / 'results.csv'}; plots in {out / 'plots'}/")


def _analyze(args) -> int:
    from qsse_md.campaign import collect, format_status, plan_analysis, run_campaign, status
    from qsse_md.campaign.engine import check_execution_options, require_distributed

    require_distributed()
    check_execution_options(args.scheduler, args.workers, args.retries)
    analyses = tuple(args.analysis.split(","))
    plan_analysis(args.inputs, args.out, temperature_K=args.temperature, analysis=analyses)
    records = run_campaign(args.out, scheduler=args.scheduler, workers=args.workers, retries=args.retries)
    print(format_status(status(args.out)))
    collect(args.out)
    print(f"results: {Path(args.out) / 'results' / 'results.csv'}")
    return _failed_exit_code(records, args.out)


def _jobscript(args) -> None:
    from qsse_md.campaign import jobscript

    print(jobscript(args.dir, args.system, args.address))


def _execution_options(parser) -> None:
    parser.add_argument("--scheduler", help="Dask scheduler address (tcp://host:8786) or batch system "
                        "(slurm, pbs, sge, lsf; resources from the campaign file); default: a local cluster")
    parser.add_argument("--workers", type=int, help="local workers (default: one per GPU, else half the cores)")
    parser.add_argument("--retries", type=int, default=2, help="retries of a failed task (default 2)")


def add_campaign_parser(commands) -> None:
    """Register ``qsse-md campaign ...`` on the top-level sub-command set."""
    campaign = commands.add_parser("campaign", help="grids of systems x conditions as resumable tasks on Dask")
    sub = campaign.add_subparsers(dest="campaign_command", required=True)

    plan = sub.add_parser("plan", help="expand a campaign file into task folders + manifest")
    plan.add_argument("file", help="campaign TOML file")
    plan.add_argument("--out", required=True, help="campaign folder (must not exist)")
    plan.set_defaults(func=_plan)

    run = sub.add_parser("run", help="run (or resume) every unfinished task: build -> MD -> analysis")
    run.add_argument("dir", help="campaign folder (from 'qsse-md campaign plan')")
    _execution_options(run)
    run.add_argument("--platform", choices=PLATFORMS, help="OpenMM platform for every task (default: the "
                     "protocol's)")
    run.set_defaults(func=_run)

    show = sub.add_parser("status", help="table of task states")
    show.add_argument("dir", help="campaign folder (from 'qsse-md campaign plan')")
    show.set_defaults(func=_status)

    gather = sub.add_parser("collect", help="one results table (results.csv, and results.parquet when pyarrow "
                            "is installed) + comparison plots")
    gather.add_argument("dir", help="campaign folder (from 'qsse-md campaign plan')")
    gather.add_argument("--out", help="output folder, created or updated (default DIR/results)")
    gather.set_defaults(func=_collect)

    analyze = sub.add_parser("analyze", help="analyse existing trajectories as a campaign")
    analyze.add_argument("inputs", nargs="+", help="run folders or TOPOLOGY:TRAJECTORY pairs")
    analyze.add_argument("--out", required=True, help="campaign folder (must not exist)")
    analyze.add_argument("--temperature", type=temperature_kelvin,
                         help="temperature in K, for conductivities of plain trajectories")
    analyze.add_argument("--analysis", default="solvation,transport",
                         help="comma-separated: solvation,transport,report (default solvation,transport)")
    _execution_options(analyze)
    analyze.set_defaults(func=_analyze)

    script = sub.add_parser("jobscript", help="print the dask-jobqueue batch job script of the campaign")
    script.add_argument("dir", help="campaign folder (from 'qsse-md campaign plan')")
    script.add_argument("--system", help="slurm, pbs, sge or lsf (default: [resources] system, else slurm)")
    script.add_argument("--address", help="scheduler address the workers join (default: a placeholder "
                        "SCHEDULER_ADDRESS to fill in)")
    script.set_defaults(func=_jobscript)
