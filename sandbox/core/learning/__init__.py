"""How a learning step is computed, behind one seam (`learner.Learner`).

`reference` is the textbook Double-DQN step as CleanRL writes it: autograd, `torch.optim.Adam`
over the layers' parameters, `clip_grad_norm_`, a Polyak update per layer. `fast` computes the
same maths with less overhead for nets this small (flat buffers, a hand-written backward pass,
numpy where torch's dispatch costs more than the arithmetic). The config's `backend` chooses one;
the golden test (tests/test_fast_path.py) trains both side by side and compares every weight. Only
the agent builds a learner, so nothing else depends on which one runs.
"""
