"""Workflows: pipelines of resumable steps that build, run and analyse, then call the writers.

:mod:`~qsse_md.workflow.steps` is the step runner; :mod:`~qsse_md.workflow.demo`,
:mod:`~qsse_md.workflow.analyze`, :mod:`~qsse_md.workflow.cooling` and the campaign tasks
(:mod:`qsse_md.campaign.task`) are expressed on it. Writers of files live in
:mod:`qsse_md.report`; they run no MD and drive no analysis.
"""
