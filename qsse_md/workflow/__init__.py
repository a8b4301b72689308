"""Workflows: pipelines of resumable steps that build, run and analyse, then call the writers.

:mod:`~qsse_md.workflow.steps` is the step runner. On it run the demo
(:mod:`~qsse_md.workflow.demo`), the cooling study (:mod:`~qsse_md.workflow.cooling`) and
the campaign tasks (:mod:`qsse_md.campaign.task`), whose steps are the analysis drivers
:mod:`~qsse_md.workflow.analyze_run`, :mod:`~qsse_md.workflow.analyze_solvation`,
:mod:`~qsse_md.workflow.analyze_transport` and
:mod:`~qsse_md.workflow.analyze_crystallization`. Files are written by :mod:`qsse_md.report`,
which runs no MD and drives no analysis; run-folder file names belong to
:mod:`qsse_md.runfolder`.
"""
