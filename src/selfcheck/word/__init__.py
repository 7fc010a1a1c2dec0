"""The Word writer: one :class:`~selfcheck.report.Report` → one .docx.

- :mod:`~selfcheck.word.writer` lays out the document (cover, contents, sections, captions);
- :mod:`~selfcheck.word.fields` is the low-level WordprocessingML it needs (fields, bookmarks);
- :mod:`~selfcheck.word.layout` lays the finished .docx out with LibreOffice (headless): the
  contents' page numbers and the PDF copy;
- :mod:`~selfcheck.word.format` turns values and data text into the text of a cell or a run
  (shared with the notebook's HTML tables).
"""
