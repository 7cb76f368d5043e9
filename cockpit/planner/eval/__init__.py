"""Bundled planner evaluation data: a payments-copilot test agent and held-out paraphrases."""
