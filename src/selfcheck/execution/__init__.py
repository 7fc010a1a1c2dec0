"""Execution: how a period's notebooks are run and the report assembled.

- :mod:`~selfcheck.execution.runner` validates the data, runs the sections, assembles;
- :mod:`~selfcheck.execution.kernels` and :mod:`~selfcheck.execution.forkserver` keep warm
  kernels (a fork server with the heavy modules imported once);
- :mod:`~selfcheck.execution.engine` is the ``selfcheck`` Papermill engine on that pool;
- :mod:`~selfcheck.execution.runlock` serialises runs per output folder;
- :mod:`~selfcheck.execution.slowimports` keeps unused slow imports out of runs.

Nothing here is imported by the section layer: data flows ingest → metrics → sections →
results → execution → word.
"""
