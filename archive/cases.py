"""The default case: U.S. WeChat Users Alliance v. Trump, N.D. Cal.
3:20-cv-05910 and its appeal, 9th Cir. 20-16908: what a crawl asks for when
it is given no case, and the court it assumes when given no court."""

DISTRICT = {"court": "cand", "docket_number": "3:20-cv-05910", "pacer_case_id": "364733",
            "case_name": "U.S. WeChat Users Alliance v. Trump"}
APPEAL = {"court": "ca9", "docket_number": "20-16908", "pacer_case_id": None,
          "case_name": "U.S. WeChat Users Alliance v. Trump"}
DEFAULT_CASES = [DISTRICT, APPEAL]


def default_cases(court=None):
    return [dict(c) for c in DEFAULT_CASES if court in (None, c["court"])]
