"""CloudWatch metric operations answered from the indexed :class:`MetricStore`.

Only the four metric-data handlers of moto's ``CloudWatchResponse`` are
replaced (PutMetricData, GetMetricData, GetMetricStatistics, ListMetrics).
moto still parses every request and serializes every answer, so whichever
protocol a client speaks (smithy-rpc-v2-cbor for botocore 1.43.117, JSON, or
the query protocol of older SDKs and the AWS CLI v1) works unchanged, and
errors come out as CloudWatch's own error shapes.  Alarms, dashboards and the
rest stay moto's.  See :mod:`smtop.sim.metric_store` for why the store differs.
"""

from __future__ import annotations

import threading
from datetime import datetime, timezone
from typing import Any

from moto.cloudwatch import exceptions as cw_errors
from moto.cloudwatch.responses import CloudWatchResponse
from moto.core import DEFAULT_ACCOUNT_ID
from moto.core.responses import ActionResult, EmptyResult

from smtop.sim.clock import SimClock
from smtop.sim.metric_store import MetricQueryError, MetricStore, to_epoch
from smtop.sim.patches.handlers import Handlers

LIST_METRICS_PAGE = 500
"""ListMetrics returns up to 500 metrics per page, like CloudWatch."""

# ListMetrics' RecentlyActive only knows one value: three hours.
_RECENTLY_ACTIVE = {"PT3H": 3 * 3600}


class MetricStores:
    """One :class:`MetricStore` per (account, region), as CloudWatch partitions data."""

    def __init__(self, clock: SimClock) -> None:
        self.clock = clock
        self._stores: dict[tuple[str, str], MetricStore] = {}
        self._lock = threading.Lock()

    def get(self, account_id: str = DEFAULT_ACCOUNT_ID, region: str = "us-east-1") -> MetricStore:
        """The store of one account and region, created on first use."""
        with self._lock:
            store = self._stores.get((account_id, region))
            if store is None:
                store = self._stores[(account_id, region)] = MetricStore(clock=self.clock.time)
            return store


def _error(error: MetricQueryError) -> Exception:
    kinds = {
        "ValidationError": cw_errors.ValidationError,
        "InvalidParameterValue": cw_errors.InvalidParameterValue,
        "InvalidParameterCombination": cw_errors.InvalidParameterCombination,
    }
    kind = kinds.get(error.code)
    if kind is not None:
        return kind(error.message)
    return cw_errors.CloudWatchException(error.code, error.message)


def _datetime(epoch: float) -> datetime:
    return datetime.fromtimestamp(epoch, timezone.utc)


def _store(response: CloudWatchResponse, stores: MetricStores) -> MetricStore:
    return stores.get(response.current_account, response.region)


def put_metric_data(response: CloudWatchResponse, *, stores: MetricStores) -> ActionResult:
    namespace = response._get_param("Namespace")
    metric_data = response._get_param("MetricData", [])
    backend = response.cloudwatch_backend
    # moto's validation (NaN, Value with Values, Counts length…) is right; keep it.
    for number, datum in enumerate(metric_data, start=1):
        backend._validate_parameters_put_metric_data(datum, number)
    store = _store(response, stores)
    for datum in metric_data:
        store.put_datum(namespace, datum)
    return EmptyResult()


def get_metric_data(response: CloudWatchResponse, *, stores: MetricStores) -> ActionResult:
    params = response._get_params()
    try:
        results, token = _store(response, stores).get_metric_data(
            params.get("MetricDataQueries", []),
            to_epoch(params["StartTime"]),
            to_epoch(params["EndTime"]),
            scan_by=params.get("ScanBy"),
            max_datapoints=params.get("MaxDatapoints"),
            next_token=params.get("NextToken"),
        )
    except MetricQueryError as error:
        raise _error(error) from None
    answer: dict[str, Any] = {
        "MetricDataResults": [
            {
                "Id": result.id,
                "Label": result.label,
                # Epoch seconds, not datetimes: every serializer accepts them and
                # 90,000 datetimes cost more to build than the answer itself.
                "Timestamps": [int(t) for t in result.timestamps],
                "Values": result.values,
                "StatusCode": result.status,
            }
            for result in results
        ],
        "Messages": [],
    }
    if token:
        answer["NextToken"] = token
    return ActionResult(answer)


def get_metric_statistics(response: CloudWatchResponse, *, stores: MetricStores) -> ActionResult:
    params = response._get_params()
    name = params.get("MetricName")
    try:
        datapoints = _store(response, stores).get_metric_statistics(
            params.get("Namespace"),
            name,
            params.get("Dimensions"),
            to_epoch(params["StartTime"]),
            to_epoch(params["EndTime"]),
            int(params.get("Period") or 0),
            params.get("Statistics") or (),
            params.get("ExtendedStatistics") or (),
            params.get("Unit"),
        )
    except MetricQueryError as error:
        raise _error(error) from None
    for point in datapoints:
        point["Timestamp"] = _datetime(point["Timestamp"])
    return ActionResult({"Label": name, "Datapoints": datapoints})


def list_metrics(response: CloudWatchResponse, *, stores: MetricStores) -> ActionResult:
    params = response._get_params()
    recently = params.get("RecentlyActive")
    active_since = None
    if recently:
        active_since = stores.clock.time() - _RECENTLY_ACTIVE.get(recently, 3 * 3600)
    found = _store(response, stores).list_metrics(
        params.get("Namespace"), params.get("MetricName"), params.get("Dimensions"), active_since
    )
    token = params.get("NextToken")
    try:
        offset = int(token) if token else 0
    except ValueError:
        raise cw_errors.InvalidParameterValue("Request parameter NextToken is invalid") from None
    page = found[offset : offset + LIST_METRICS_PAGE]
    answer: dict[str, Any] = {
        "Metrics": [
            {
                "Namespace": s.namespace,
                "MetricName": s.name,
                "Dimensions": [{"Name": n, "Value": v} for n, v in s.dimensions],
            }
            for s in page
        ]
    }
    if offset + LIST_METRICS_PAGE < len(found):
        answer["NextToken"] = str(offset + LIST_METRICS_PAGE)
    return ActionResult(answer)


HANDLERS: Handlers = {
    (CloudWatchResponse, "put_metric_data"): put_metric_data,
    (CloudWatchResponse, "get_metric_data"): get_metric_data,
    (CloudWatchResponse, "get_metric_statistics"): get_metric_statistics,
    (CloudWatchResponse, "list_metrics"): list_metrics,
}
"""The metric-data handlers, answered from ``stores``: install with ``stores=``."""
