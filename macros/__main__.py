"""`python -m macros …` is the same as the `fupan` command."""

from .cli import main

raise SystemExit(main())
