"""The reports, each a function of a ReportFilter returning its rows (figures exact, or common.privacy's
SMALL_GROUP where they are about one to four members) and its charts (analytics.charts). The admin, the
dashboard and the merchants' portal call these; a merchant's call passes only the merchant's own stores."""

from analytics.selectors.circulation import CATEGORY, ISSUED, SPENT, STORE, CirculationReport, circulation_report
from analytics.selectors.filters import DAY, MONTH, ReportFilter
from analytics.selectors.members import MembersReport, members_report
from analytics.selectors.points import PointsReport, points_report
from analytics.selectors.promotions import PromotionsReport, promotions_report
from analytics.selectors.stores import StoresReport, store_flows, store_visits, stores_report

__all__ = [
    "CATEGORY",
    "DAY",
    "ISSUED",
    "MONTH",
    "SPENT",
    "STORE",
    "CirculationReport",
    "MembersReport",
    "PointsReport",
    "PromotionsReport",
    "StoresReport",
    "ReportFilter",
    "circulation_report",
    "members_report",
    "points_report",
    "promotions_report",
    "store_flows",
    "store_visits",
    "stores_report",
]
