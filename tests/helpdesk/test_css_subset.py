"""The part of Bootstrap's stylesheet the pages load (helpdesk/css_subset.py, bin/build-css)."""

from helpdesk.css_subset import OUTPUT, Vocabulary, build, subset


def used(*texts: str) -> Vocabulary:
    return Vocabulary.of(texts)


def test_the_committed_stylesheet_has_every_rule_the_templates_can_use() -> None:
    assert OUTPUT.read_text(encoding="utf-8") == build(), "run bin/build-css"


def test_a_rule_is_kept_when_every_class_it_needs_is_used() -> None:
    css = ".card{a:1}.card .card-body{b:2}.modal{c:3}"

    assert subset(css, used('<div class="card">')) == ".card{a:1}"


def test_a_selector_list_keeps_only_its_used_selectors() -> None:
    assert subset(".btn,.modal .btn{a:1}", used("btn")) == ".btn{a:1}"


def test_element_rules_are_kept() -> None:
    assert subset("body{margin:0}h1,.h1{a:1}", used()) == "body{margin:0}h1{a:1}"


def test_a_class_under_not_is_not_required() -> None:
    css = ".btn:not(.btn-check)+.btn{a:1}"

    assert subset(css, used("btn")) == css


def test_a_word_ending_in_a_dash_keeps_every_class_it_can_become() -> None:
    css = ".alert-danger{a:1}.alert-info{b:2}.badge-info{c:3}"
    template = '<div class="alert alert-{{ message.tags }}">'

    assert subset(css, used(template)) == ".alert-danger{a:1}.alert-info{b:2}"


def test_a_date_format_is_not_a_prefix() -> None:
    assert subset(".m-0{a:1}", used('strftime("%Y-%m-%d")')) == ""


def test_a_media_block_keeps_its_used_rules_and_goes_when_none_is_left() -> None:
    css = "@media (min-width:768px){.d-md-none{a:1}.modal{b:2}}@media print{.modal{c:3}}"

    assert subset(css, used("d-md-none")) == "@media (min-width:768px){.d-md-none{a:1}}"


def test_the_dark_colour_mode_is_left_out_unless_a_page_sets_it() -> None:
    css = ":root,[data-bs-theme=light]{a:1}[data-bs-theme=dark]{b:2}"

    assert subset(css, used()) == ":root{a:1}"
    assert subset(css, used('<html data-bs-theme="dark">')) == css


def test_an_animation_is_kept_only_when_a_kept_rule_runs_it() -> None:
    css = "@keyframes spin{to{x:1}}@keyframes fade{to{y:1}}.spinner{animation:1s spin}"

    assert subset(css, used("spinner")) == ".spinner{animation:1s spin}@keyframes spin{to{x:1}}"
