"""Receipts (Belege): upload, replace and download the file of a cost."""
