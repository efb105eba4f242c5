"""This review's MkDocs hooks (`hooks:` in mkdocs.yml): fupan's, from the installed package."""

from fupan.site.hooks import (  # noqa: F401  (MkDocs looks the events up by name)
    on_build_error,
    on_config,
    on_env,
    on_files,
    on_nav,
    on_page_content,
    on_post_build,
    on_post_page,
)
