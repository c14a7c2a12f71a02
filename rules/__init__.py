"""txlint's rules, one module per family.  Shipped inside the wheel as ``txlint.rules``."""
