"""The HTML report's jinja2 environment is built once and keeps autoescaping."""

from __future__ import annotations

from pytest_edgegate.report import html


def test_environment_is_built_once_and_autoescapes() -> None:
    first = html._environment()
    assert html._environment() is first
    assert first.autoescape is True
    rendered = first.from_string("{{ x }}").render(x="<b>")
    assert rendered == "&lt;b&gt;"


def test_two_renders_share_the_environment_and_give_the_same_bytes() -> None:
    from bench.report import synthetic_report

    doc = synthetic_report(3, hostile=True)
    html._environment.cache_clear()
    first = html.render_html(doc)
    assert html._environment.cache_info().misses == 1
    assert html.render_html(doc) == first
    assert html._environment.cache_info().misses == 1
    assert "<script>alert(1)</script>" not in first
