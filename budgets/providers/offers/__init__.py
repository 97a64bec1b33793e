"""Offers: what a provider sells, at what price, where and how; and the directory search."""
