"""PACER's fee rules and the hard budget: pure arithmetic.

Fees (https://pacer.uscourts.gov/pacer-pricing-how-fees-work):
$0.10 a page; a document or a case-specific report is capped at 30 pages
($3.00); HTML reports are billed one page per 4,320 bytes; transcripts and
non-case-specific reports are not capped. Money is counted in whole cents
(integers), so budget arithmetic never drifts.

The budget is hard: a purchase is started only when its *worst case* fits
in what is left after everything already spent and everything in flight.
Without a budget nothing is bought; the spider records what it would have
bought (ChargeItem status ``would_buy``) and at what price.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Optional

PAGE_CENTS = 10
CAP_PAGES = 30
CAP_CENTS = PAGE_CENTS * CAP_PAGES  # $3.00
HTML_BYTES_PER_PAGE = 4320

# What each kind of purchase is: (case specific -> capped, free)
CAPPED = {"docket_report", "appellate_docket", "acms_docket", "document", "attachment_page"}
UNCAPPED = {"transcript", "search"}
FREE = {"possible_cases", "rss", "login", "opinion"}


def cents(dollars) -> int:
    """Dollars (str, float, Decimal) -> whole cents. Raises ValueError."""
    try:
        value = Decimal(str(dollars).strip().lstrip("$"))
    except (InvalidOperation, AttributeError):
        raise ValueError(f"not an amount of dollars: {dollars!r}") from None
    if not value.is_finite() or value < 0:
        raise ValueError(f"not an amount of dollars: {dollars!r}")
    return int((value * 100).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def dollars(amount_cents: int) -> float:
    return round(amount_cents / 100, 2)


def fmt(amount_cents: int) -> str:
    return f"${amount_cents / 100:,.2f}"


def billable_pages(pages: int, what: str = "document") -> int:
    """Pages PACER bills for ``pages`` pages of ``what``."""
    pages = max(0, int(pages))
    if what in FREE:
        return 0
    if what in UNCAPPED:
        return pages
    return min(pages, CAP_PAGES)


def cost_cents(pages: int, what: str = "document") -> int:
    return billable_pages(pages, what) * PAGE_CENTS


def html_pages(nbytes: int) -> int:
    """Billable pages of an HTML report of ``nbytes`` bytes (before any cap)."""
    return max(1, math.ceil(max(0, int(nbytes)) / HTML_BYTES_PER_PAGE)) if nbytes else 0


def report_cost_cents(nbytes: int, what: str = "docket_report") -> int:
    return cost_cents(html_pages(nbytes), what)


def worst_case_cents(what: str, pages: Optional[int] = None) -> Optional[int]:
    """The most a purchase can cost; None when it cannot be bounded
    (an uncapped purchase of unknown length: never start one)."""
    if what in FREE:
        return 0
    if pages is not None:
        return cost_cents(pages, what)
    if what in UNCAPPED:
        return None
    return CAP_CENTS


@dataclass
class Decision:
    buy: bool
    status: str  # "buy", "would_buy", "over_budget"
    worst_cents: Optional[int]
    reason: str = ""


class Budget:
    """A hard spending limit in cents. ``limit_cents=None``: buy nothing."""

    def __init__(self, limit_cents: Optional[int] = None):
        self.limit = limit_cents
        self.spent = 0
        self.reserved = 0
        self.would_spend = 0  # what a run without a budget would have bought
        # From the ledger (:meth:`count_ledger`): what earlier runs of the same
        # crawl (a JOBDIR resume) committed, and the monthly cap across crawls.
        self.prior = 0
        self.monthly_limit: Optional[int] = None
        self.month_prior = 0

    def count_ledger(self, prior_cents: int, monthly_limit_cents: Optional[int] = None,
                     month_prior_cents: int = 0) -> None:
        self.prior = prior_cents
        self.monthly_limit = monthly_limit_cents
        self.month_prior = month_prior_cents

    @classmethod
    def from_arg(cls, max_cost) -> "Budget":
        if max_cost in (None, ""):
            return cls(None)
        return cls(cents(max_cost))

    @property
    def left(self) -> Optional[int]:
        if self.limit is None:
            return None
        left = self.limit - self.prior - self.spent - self.reserved
        if self.monthly_limit is not None:
            left = min(left, self.monthly_limit - self.month_prior - self.spent - self.reserved)
        return left

    @property
    def cap(self) -> int:
        """The smaller of the two limits, as a figure for messages."""
        if self.monthly_limit is None:
            return self.limit - self.prior
        return min(self.limit - self.prior, self.monthly_limit - self.month_prior)

    def decide(self, what: str, pages: Optional[int] = None) -> Decision:
        """May a purchase of ``what`` (``pages`` long, when known) start now?

        When it may, its worst case is reserved until :meth:`settle`.
        """
        worst = worst_case_cents(what, pages)
        if worst == 0:
            return Decision(True, "buy", 0, "free")
        if self.limit is None:
            self.would_spend += worst or 0
            return Decision(False, "would_buy", worst, "no budget given (-a max_cost=)")
        if worst is None:
            return Decision(False, "over_budget", None,
                            f"{what} of unknown length is not capped: its cost cannot be bounded")
        if worst > self.left:
            monthly = (self.monthly_limit is not None and self.monthly_limit - self.month_prior
                       < self.limit - self.prior)
            return Decision(False, "over_budget", worst,
                            f"could cost up to {fmt(worst)}, {fmt(max(self.left, 0))} left "
                            + (f"of the monthly {fmt(self.monthly_limit)} (PACER_MONTHLY_BUDGET)"
                               if monthly else f"of {fmt(self.limit)}"))
        self.reserved += worst
        return Decision(True, "buy", worst)

    def settle(self, decision: Decision, actual_cents: Optional[int]) -> None:
        """The purchase ``decision`` allowed is done: it cost ``actual_cents``
        (None: it did not happen, nothing was billed)."""
        if decision.buy and decision.worst_cents:
            self.reserved -= decision.worst_cents
        if actual_cents:
            self.spent += actual_cents

    def summary(self) -> str:
        if self.limit is None:
            return (f"PACER: spent {fmt(self.spent)}; no budget given (-a max_cost=), so nothing "
                    f"was bought; it would have cost up to {fmt(self.would_spend)}")
        earlier = (f" (and {fmt(self.prior)} in earlier runs of this crawl)"
                   if self.prior else "")
        return (f"PACER: spent {fmt(self.spent)}{earlier} of the {fmt(self.limit)} budget "
                f"({fmt(max(self.limit - self.prior - self.spent, 0))} left)")
