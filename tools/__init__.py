"""Domain services and the agent tools that expose them (payments, fraud, fx, credit)."""
