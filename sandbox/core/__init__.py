"""The learning engine: config, envs, replay memory, networks, the agent, the trainer, greedy
evaluation and the coach's diagnosis of a run. Imports no Optuna, safetensors, psygnal or Qt."""
