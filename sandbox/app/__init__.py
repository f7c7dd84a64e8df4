"""The app's model, Qt-free: the session, the runs log, the best agent, crash recovery, human play
and the policy map."""
