"""Subscription plans: the 5-hour and weekly windows a Pro/Max or ChatGPT plan is metered by.

`snapshots` reads and stores the used % the tools report, `blocks` cuts recorded calls into
5-hour blocks, `statusline` is the `llm-shim statusline` command (docs/plans.md).
"""
