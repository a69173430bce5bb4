from smtop.cli import main

raise SystemExit(main())
