"""`python -m fupan …` is the same as the `fupan` command."""

from fupan.cli import main

raise SystemExit(main())
