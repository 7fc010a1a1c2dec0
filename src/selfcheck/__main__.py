from selfcheck.cli import main

raise SystemExit(main())
