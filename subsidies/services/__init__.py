"""Workflows of 精准救助 that touch several models (HackSoft-style services)."""
