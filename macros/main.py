"""This review's mkdocs-macros module (`module_name: macros/main` in mkdocs.yml).

The writer macros come from the installed `fupan` package; add this review's own macros below
with `env.macro` inside a `define_env` that calls fupan's first.
"""

from fupan.site.plugin import define_env, on_post_build, on_post_page_macros, on_pre_page_macros

__all__ = ["define_env", "on_pre_page_macros", "on_post_page_macros", "on_post_build"]
