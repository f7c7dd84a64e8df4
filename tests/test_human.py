from sandbox.app.human import HumanEpisode


def test_a_human_episode_scores_like_the_env():
    human = HumanEpisode("MountainCar-v0", seed=0)
    frame = human.frame()
    assert frame.shape == (400, 600, 3)
    while not human.done:
        velocity = human.state[1]
        human.step(2 if velocity >= 0 else 0)  # push with the motion: pump energy
    assert human.done and -200 < human.score == -human.steps  # reached the flag before the time limit
    human.close()
