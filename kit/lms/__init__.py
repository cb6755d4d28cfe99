"""Learning-management systems: read their bulk downloads, write what they import.

One module per LMS (``canvas``, ``moodle``, ``gradescope``) parses that LMS's file naming into
:class:`kit.lms.records.Entry` records and writes its import files; ``safe_unzip`` reads a
download (zip or folder) without trusting it; ``ingest`` stages the notebooks for ``kit grade``.
See "Learning-management systems" in docs/GRADING.md for the formats and their sources.
"""
