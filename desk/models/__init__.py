"""The office desk's data: what the office promised customers, and (later modules) what customers send in."""

from desk.models.feedback import Feedback, FeedbackChannel, FeedbackRequest, FeedbackState  # noqa: F401
from desk.models.inbound import InboundAttachment, InboundKind, InboundMail, InboundStatus  # noqa: F401
from desk.models.promises import PostcodeArea, Promise, PromiseKind, PromiseState, VisitMoveRule
from desk.models.requests import MatchOutcome, Reachability, RequestStatus, WebRequest  # noqa: F401

__all__ = ["PostcodeArea", "Promise", "PromiseKind", "PromiseState", "VisitMoveRule"]
from desk.models.page import DeskVisit  # noqa: E402, F401
