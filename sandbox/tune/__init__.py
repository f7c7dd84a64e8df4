"""Hyperparameter search with Optuna: the search space, trials, worker processes and results."""
