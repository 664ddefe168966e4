from gauge.cli import main

raise SystemExit(main())
