"""Built-in agents: each folder holds an AgentSpec (agent.yaml) and its prompt and planner data."""
