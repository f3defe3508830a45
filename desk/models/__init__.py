"""The office desk's data: what the office promised customers, and (later modules) what customers send in."""

from desk.models.promises import PostcodeArea, Promise, PromiseKind, PromiseState, VisitMoveRule

__all__ = ["PostcodeArea", "Promise", "PromiseKind", "PromiseState", "VisitMoveRule"]
from desk.models.page import DeskVisit  # noqa: E402, F401
