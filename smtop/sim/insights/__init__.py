"""A CloudWatch Logs Insights query engine for the simulator.

moto 5.2.5 answers StartQuery by returning every record whatever the query
says (it ignores ``filter``, ``parse`` and ``stats``).  This package parses
the part of the Insights language that smtop's saved queries and its users
need (:mod:`.parser`, a lark grammar) and evaluates it over the stored
events (:mod:`.evaluate`); :mod:`smtop.sim.patches.insights` puts it behind
the Logs API.
"""

from smtop.sim.insights.evaluate import Event, Instant, Outcome, check, nearest_rank, run
from smtop.sim.insights.parser import Query, QuerySyntaxError, parse_query

__all__ = ["Event", "Instant", "Outcome", "Query", "QuerySyntaxError", "check", "nearest_rank", "parse_query", "run"]
