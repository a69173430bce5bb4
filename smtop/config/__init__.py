"""What smtop is told: the command line's settings, the config file, and the types of both."""
