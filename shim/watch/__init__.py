"""`llm-shim watch`: a live view of calls running now, the 5-hour blocks, today's spend, the
budgets and recent fallbacks and blocks (docs/plans.md "Live view"). Not on the hot path."""
