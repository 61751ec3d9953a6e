"""clm.pipeline: the summary `clm run` prints."""

from clm.pipeline import SUMMARY_WIDTH, _wrapped


def test_a_long_summary_line_wraps_between_items_and_keeps_each_whole() -> None:
    # 14 marts, as the demo run publishes: one line of about 500 characters before wrapping
    items = [f"rpt_mart_number_{i} ({i * 1234:,} rows)" for i in range(14)]
    lines = _wrapped("  marts:", items).splitlines()
    assert all(len(line) <= SUMMARY_WIDTH for line in lines), lines
    assert lines[0].startswith("  marts: rpt_mart_number_0 (0 rows),")
    assert all(line.startswith("    rpt_mart_number_") for line in lines[1:]), lines
    # every item once, whole, in order, and a comma after every item but the last
    joined = " ".join(line.strip() for line in lines).removeprefix("marts: ")
    assert joined == ", ".join(items)


def test_a_short_line_and_an_item_longer_than_a_line_stay_on_their_own_lines() -> None:
    assert _wrapped("  marts:", ["a (1 rows)", "b (2 rows)"]) == "  marts: a (1 rows), b (2 rows)"
    long = "x" * (SUMMARY_WIDTH + 5)
    assert _wrapped("  1 warning(s):", [long]) == f"  1 warning(s): {long}"
