"""The headless commands: train, evaluate, tune."""
