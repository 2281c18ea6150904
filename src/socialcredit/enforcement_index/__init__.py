"""The enforcement index: checks answered from memory, always agreeing with ``Engine.check``
(see ``socialcredit.enforcement_index.index``)."""

from socialcredit.enforcement_index.answers import IndexAnswer
from socialcredit.enforcement_index.index import EnforcementIndex
from socialcredit.enforcement_index.refresher import Refresher

__all__ = ["EnforcementIndex", "IndexAnswer", "Refresher"]
