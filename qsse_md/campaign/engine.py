"""Running a planned campaign on Dask: a local cluster, a scheduler address or a batch queue.

``scheduler``:

- ``None``: a ``distributed.LocalCluster`` of ``workers`` processes (default: one per
  visible GPU, else half the CPU cores), one task at a time per worker;
- ``"tcp://host:8786"`` (any Dask scheduler address): its workers must see the campaign
  folder at the same path (shared file system);
- ``"slurm"``, ``"pbs"``, ``"sge"``, ``"lsf"``: dask-jobqueue with the ``[resources]`` of the
  campaign file (keys of the dask-jobqueue cluster class, plus ``jobs`` = number of batch
  jobs and ``gpus_per_job``).

The caller holds the campaign lock for the whole run; tasks already done are skipped,
interrupted ones resume, failed ones are retried while they have fewer than
``retries + 1`` failed attempts in total.
"""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
from pathlib import Path

from qsse_md.campaign.state import campaign_lock, check_task, read_manifest, read_state, task_dir, write_state
from qsse_md.errors import UserFixableError

log = logging.getLogger(__name__)
JOBQUEUE = {"slurm": "SLURMCluster", "pbs": "PBSCluster", "sge": "SGECluster", "lsf": "LSFCluster"}
RESOURCE_KEYS = {"system", "jobs", "gpus_per_job", "cores", "memory", "processes", "walltime", "queue",
                 "account", "job_extra_directives", "job_script_prologue", "job_directives_skip",
                 "local_directory", "log_directory", "interface", "worker_extra_args", "python", "job_name",
                 "modules"}
CONNECT_TIMEOUT_S = 10


def run_campaign(campaign_dir: str | Path, scheduler: str | None = None, workers: int | None = None,
                 retries: int = 2, platform: str | None = None) -> list[dict]:
    """Execute every unfinished task of ``campaign_dir``; return their final state records.

    Raises (one line) before touching anything when another process runs the campaign,
    a task folder was edited by hand, or the scheduler does not answer.
    """
    require_distributed()
    check_execution_options(scheduler, workers, retries)
    campaign_dir = Path(campaign_dir)
    manifest = read_manifest(campaign_dir)
    with campaign_lock(campaign_dir):
        problems = [p for p in (check_task(campaign_dir, e) for e in manifest["tasks"]) if p]
        if problems:
            raise UserFixableError(f"{len(problems)} task folder(s) cannot be trusted, nothing was run: "
                                   + "; ".join(problems))
        todo = [e["id"] for e in manifest["tasks"]
                if _wanted(read_state(task_dir(campaign_dir, e["id"])), retries)]
        log.info("campaign %s: %d of %d task(s) to run", manifest["name"], len(todo), len(manifest["tasks"]))
        if not todo:
            return [read_state(task_dir(campaign_dir, e["id"])) for e in manifest["tasks"]]
        client, cluster = connect(scheduler, workers, manifest["settings"].get("resources", {}), len(todo))
        try:
            _submit_all(client, campaign_dir, todo, retries + 1, platform)
        finally:
            client.close()
            if cluster is not None:
                cluster.close()
    return [read_state(task_dir(campaign_dir, e["id"])) for e in manifest["tasks"]]


def require_distributed() -> None:
    """Raise a one-line UserFixableError unless Dask's ``distributed`` can be imported.

    Campaigns run on Dask, which comes with the ``campaign`` extra of qsse_md.
    """
    try:
        import distributed  # noqa: F401
    except ImportError:
        raise UserFixableError("campaigns run on Dask, which is not installed; install it with: "
                               'python -m pip install "qsse_md[campaign]"') from None


def check_execution_options(scheduler: str | None, workers: int | None, retries: int) -> None:
    """Raise a one-line ValueError for a scheduler that is neither an address nor a batch
    system, fewer than 1 worker or a negative number of retries."""
    if scheduler is not None and scheduler not in JOBQUEUE and "://" not in scheduler:
        raise ValueError(f"--scheduler {scheduler!r}: give an address such as tcp://host:8786 or one of "
                         f"{', '.join(JOBQUEUE)}")
    if workers is not None and workers < 1:
        raise ValueError(f"--workers {workers}: give a number >= 1")
    if retries < 0:
        raise ValueError(f"--retries {retries}: give a number >= 0")


def _wanted(record: dict, retries: int) -> bool:
    if record["state"] == "done":
        return False
    return not (record["state"] == "failed" and record.get("failures", 0) > retries)


def _submit_all(client, campaign_dir: Path, todo: list[str], max_failures: int, platform) -> None:
    from distributed import as_completed

    from qsse_md.campaign.task import execute_task

    futures = {client.submit(execute_task, str(task_dir(campaign_dir, task).resolve()), max_failures, platform,
                             key=f"qsse-task-{task}", pure=False): task for task in todo}
    for future in as_completed(futures):
        task = futures[future]
        try:
            record = future.result()
            log.info("task %s: %s%s", task, record["state"],
                     f" ({record['reason']})" if record.get("reason") else "")
        except Exception as error:  # the worker itself died (out of memory, killed)
            folder = task_dir(campaign_dir, task)
            reason = " ".join(f"worker lost: {type(error).__name__}: {error}".split())
            write_state(folder, "failed", reason=reason, failures=read_state(folder).get("failures", 0) + 1)
            log.warning("task %s failed: %s", task, reason)


def default_workers() -> int:
    """One worker per visible GPU, else half the CPU cores (at least one)."""
    visible = os.environ.get("CUDA_VISIBLE_DEVICES")
    if visible:
        return len([d for d in visible.split(",") if d.strip()])
    if shutil.which("nvidia-smi"):
        try:
            listing = subprocess.run(["nvidia-smi", "-L"], capture_output=True, text=True, timeout=20).stdout
            gpus = [line for line in listing.splitlines() if line.startswith("GPU ")]
            if gpus:
                return len(gpus)
        except (OSError, subprocess.SubprocessError):
            pass
    return max(1, (os.cpu_count() or 2) // 2)


def connect(scheduler: str | None, workers: int | None, resources: dict, n_tasks: int):
    """Return ``(client, cluster_or_None)`` for the chosen scheduler (see module docstring)."""
    from distributed import Client, LocalCluster

    for name in ("distributed", "distributed.scheduler", "distributed.nanny", "distributed.core",
                 "distributed.worker", "distributed.http.proxy"):
        logging.getLogger(name).setLevel(logging.WARNING)
    if scheduler is None:
        n = workers or min(default_workers(), n_tasks)
        threads = max(1, (os.cpu_count() or 1) // n)
        cluster = LocalCluster(n_workers=n, threads_per_worker=1, processes=True, dashboard_address=None,
                               env={"OPENMM_CPU_THREADS": str(threads)})
        return Client(cluster), cluster
    if scheduler in JOBQUEUE:
        cluster = jobqueue_cluster(scheduler, resources)
        jobs = int(resources.get("jobs", workers or 1))
        cluster.scale(jobs=jobs)
        return Client(cluster), cluster
    try:
        return Client(scheduler, timeout=f"{CONNECT_TIMEOUT_S}s"), None
    except (OSError, TimeoutError) as error:
        raise UserFixableError(f"Dask scheduler {scheduler} does not answer ({type(error).__name__} after "
                               f"{CONNECT_TIMEOUT_S} s); start it with 'dask scheduler' or check the address") from None


def jobqueue_cluster(system: str, resources: dict):
    """A dask-jobqueue cluster object built from the campaign's ``[resources]`` (not scaled)."""
    unknown = sorted(set(resources) - RESOURCE_KEYS)
    if unknown:
        raise ValueError(f"[resources] has unknown key(s) {', '.join(unknown)}; allowed: "
                         f"{', '.join(sorted(RESOURCE_KEYS))}")
    try:
        import dask_jobqueue
    except ImportError:
        raise UserFixableError("batch schedulers need dask-jobqueue, which is not installed; install it with: "
                               'python -m pip install "qsse_md[campaign]"') from None
    options = {k: v for k, v in resources.items()
               if k not in ("system", "jobs", "gpus_per_job", "modules")}
    modules = resources.get("modules", [])
    modules = [modules] if isinstance(modules, str) else list(modules)
    if modules:  # environment modules (e.g. the cluster's GROMACS and MPI) before the rest
        options["job_script_prologue"] = ([f"module load {name}" for name in modules]
                                          + list(options.get("job_script_prologue", [])))
    options.setdefault("cores", 1)
    options.setdefault("memory", "8GB")
    options.setdefault("processes", 1)
    options.setdefault("job_name", "qsse-md")
    if options.get("job_script_prologue"):  # the prologue activates the environment
        options.setdefault("python", "python")
    gpus = int(resources.get("gpus_per_job", 0))
    if gpus:
        extra = list(options.get("job_extra_directives", []))
        directive = {"slurm": f"--gres=gpu:{gpus}", "pbs": f"-l ngpus={gpus}"}.get(system)
        if directive and directive not in extra:
            extra.append(directive)
        options["job_extra_directives"] = extra
    options.setdefault("scheduler_options", {"dashboard": False})
    return getattr(dask_jobqueue, JOBQUEUE[system])(**options)


JOB_ID_VARIABLES = {"slurm": "${SLURM_JOB_ID}", "pbs": "${PBS_JOBID}", "sge": "${JOB_ID}", "lsf": "${LSB_JOBID}"}


def jobscript(campaign_dir: str | Path, system: str | None = None, address: str | None = None) -> str:
    """The batch job script of one Dask worker job for this campaign's ``[resources]``.

    ``address``: the scheduler the workers join (e.g. a ``dask scheduler`` started on the
    login node), so the script can be submitted as is (``sbatch``); without it the script
    names a placeholder scheduler and is what ``run --scheduler slurm`` submits itself.
    Each job's worker is named after the batch job id.
    """
    manifest = read_manifest(campaign_dir)
    resources = dict(manifest["settings"].get("resources", {}))
    system = system or resources.get("system", "slurm")
    if system not in JOBQUEUE:
        raise ValueError(f"batch system {system!r}: choose one of {', '.join(JOBQUEUE)}")
    for name in ("distributed", "distributed.scheduler", "distributed.http.proxy"):
        logging.getLogger(name).setLevel(logging.WARNING)
    cluster = jobqueue_cluster(system, resources)
    try:
        script = cluster.job_script()
        placeholder = cluster.scheduler_address
    finally:
        cluster.close()
    script = script.replace("--name dummy-name", f"--name qsse-{JOB_ID_VARIABLES[system]}")
    return script.replace(placeholder, address or "SCHEDULER_ADDRESS")
