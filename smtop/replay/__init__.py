"""Record and replay any source: the codec (smtop.replay.codec), the recorder and the player."""
