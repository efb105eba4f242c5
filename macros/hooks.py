"""This review's MkDocs hooks (`hooks:` in mkdocs.yml): fupan's, from the installed package.

MkDocs looks the events up by name; `__all__` of fupan.site.hooks lists them, so a newer fupan's
events arrive without editing this file."""

from fupan.site.hooks import *  # noqa: F403
