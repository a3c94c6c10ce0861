"""Stage 2, analysis: compare two versions, find the provisions they touch, rate the change, write the change record."""
