"""Great Expectations suites, checkpoint and thresholds for clm's quality gate (see clm/gate.py)."""
