"""Stage 2, analysis: compare two versions, find the provisions they touch, rate the change, write the change record.

Public: ``changes.process_version`` (a new version against its predecessor: the record written,
the event published), ``changes.build_record``, ``assess.analyse`` (the same analysis, used by
the replay), ``settings``. Inside: ``blocks`` and ``dates`` (a version as blocks), ``diff`` and
``pairing`` (what changed), ``provisions`` and ``negation`` (which matter, which way).
"""
