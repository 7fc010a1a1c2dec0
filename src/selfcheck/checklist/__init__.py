"""The self-inspection checklist: items inspected, filled in Excel, read back strictly.

- :mod:`~selfcheck.checklist.definition`: the organisation's checklist (areas → items),
  a default shipped with the package;
- :mod:`~selfcheck.checklist.decide`: the conclusion of an item decided by metrics;
- :mod:`~selfcheck.checklist.workbook`: the period's workbook, written (keeping what is
  already filled in) and read back (every error named by sheet, row and column).
"""
