from hlm.cli import main

raise SystemExit(main())
