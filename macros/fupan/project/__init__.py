"""A shop's own review project, made by `fupan init` from the templates in `templates/`."""
