"""Shared pytest setup: every test is offline by construction."""

from __future__ import annotations

import os

# No test may reach a model hub; transformers and huggingface_hub honour these.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
