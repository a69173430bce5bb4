"""``python -m smtop.sim``: run the simulator (same as ``smtop sim``)."""

from smtop.sim.server import main

raise SystemExit(main())
