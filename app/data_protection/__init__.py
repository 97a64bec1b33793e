"""Data protection: the data inventory, subject access export, audit visibility, retention."""
