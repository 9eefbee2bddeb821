"""Research side: exports, factor scores, re-estimation of the factor structure, reports. `python -m analysis …`."""
