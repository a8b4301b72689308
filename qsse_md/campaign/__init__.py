"""Campaigns: grids of systems x conditions as resumable tasks on Dask.

``plan`` expands a campaign file into task folders, ``run_campaign`` executes build -> MD
-> analysis for every unfinished task, ``status`` and ``collect`` report. See
:mod:`qsse_md.campaign.spec` for the file format and :mod:`qsse_md.campaign.state` for
the folder layout.
"""

from qsse_md.campaign.collect import collect, format_status, status
from qsse_md.campaign.engine import jobscript, run_campaign
from qsse_md.campaign.plan import plan, plan_analysis

__all__ = ["plan", "plan_analysis", "run_campaign", "status", "format_status", "collect", "jobscript"]
