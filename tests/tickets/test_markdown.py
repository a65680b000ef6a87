"""One converter per thread, reset between texts: nothing of one text reaches the next."""

from tickets.markdown import render_markdown


def test_a_link_reference_defined_in_one_text_does_not_link_in_the_next() -> None:
    first = render_markdown("See [the docs][docs].\n\n[docs]: https://example.com/docs")
    assert 'href="https://example.com/docs"' in first
    second = render_markdown("See [the docs][docs].")
    assert "href" not in second


def test_the_same_text_renders_the_same_every_time() -> None:
    text = "| a | b |\n|---|---|\n| 1 | 2 |\n\n```\ncode\n```\n\n1. one\n2. two"
    assert render_markdown(text) == render_markdown(text)
    assert "<table>" in render_markdown(text)
    assert "<pre><code>code" in render_markdown(text)


def test_a_text_too_deeply_nested_then_a_plain_one_both_render() -> None:
    deep = "> " * 600 + "quoted"
    assert "quoted" in render_markdown(deep)
    assert render_markdown("**bold**") == "<p><strong>bold</strong></p>"
