"""The default case: U.S. WeChat Users Alliance v. Trump, in both courts."""

DEFAULT_CASES = [
    {"court": "cand", "docket_number": "3:20-cv-05910", "pacer_case_id": "364733",
     "case_name": "U.S. WeChat Users Alliance v. Trump"},
    {"court": "ca9", "docket_number": "20-16908", "pacer_case_id": None,
     "case_name": "U.S. WeChat Users Alliance v. Trump"},
]


def default_cases(court=None):
    return [dict(c) for c in DEFAULT_CASES if court in (None, c["court"])]
