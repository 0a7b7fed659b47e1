"""Where a `next` parameter may send the browser after login."""

from __future__ import annotations

import pytest
from social.redirects import safe_next_path


@pytest.mark.parametrize("target", ["/", "/user/susan", "/edit_profile?x=1#top"])
def test_relative_paths_on_this_site_are_safe_next_targets(target: str) -> None:
    assert safe_next_path(target) == target


@pytest.mark.parametrize(
    "target",
    [
        None,
        "",
        "https://evil.example/",
        "//evil.example",
        "/\\evil.example",
        "\\\\evil.example",
        "javascript:alert(1)",
        "user/susan",
        "/\t/evil.example",
        "http:/evil.example",
    ],
)
def test_absolute_or_tricky_next_targets_are_refused(target: str | None) -> None:
    assert safe_next_path(target) is None
