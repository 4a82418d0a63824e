"""Reliability tests: crash and resume, concurrency, misconfiguration."""
