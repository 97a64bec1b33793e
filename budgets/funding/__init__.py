"""Budgets and their funding streams: allocation by the commissioner, adjustments,
suspension, ending and recovery, and the local policy (reviews, notice) behind them."""
