"""`python -m fupan.sample --out data --orders 200000 --seed 2025` writes the sample company's data."""

from fupan.sample.generator import main

raise SystemExit(main())
