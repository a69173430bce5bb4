"""The local simulator: moto's server plus what moto lacks for smtop.

Run it with ``python -m smtop.sim`` / ``smtop sim``, or from Python as a child
process with :func:`smtop.sim.process.spawn_sim`.  It always runs in a process
of its own (it patches moto process-wide and would share the console's GIL),
so nothing in ``smtop.ui`` or ``smtop.aws`` imports it; importing this package
(or ``smtop.sim.process``) does not import moto.

Where and why it differs from moto 5.2.5:

- CloudWatch metrics (:mod:`smtop.sim.metric_store`, :mod:`smtop.sim.patches.cloudwatch`):
  an indexed store answers PutMetricData, GetMetricData, GetMetricStatistics and
  ListMetrics.  moto scans every datapoint per query and period (seconds for a
  console refresh), expands Values/Counts per count, fails with HTTP 500 on
  percentiles, matches dimensions only in the order they were put, accepts 501
  queries, ignores MaxDatapoints and never pages.
- SageMaker (:mod:`smtop.sim.patches.sagemaker`): current instance types
  (ml.g5, ml.g6, ml.inf2, ml.p4d, ml.c7i…), complete ProductionVariants in
  DescribeEndpoint, UpdateEndpoint, and resource times from the simulator's clock.
- CloudWatch Logs (:mod:`smtop.sim.patches.logs`, :mod:`smtop.sim.filter_pattern`):
  FilterLogEvents with the service's filter-pattern language (moto ignores JSON
  patterns and mistreats ``?a ?b``), pages that never skip or repeat events
  sharing a millisecond, and atomic event ids.  StartLiveTail streams
  (:mod:`smtop.sim.live_tail`): sessionStart, an update every second,
  sampling above 500 events a second, the 3-hour timeout, the session quota;
  moto joins the stream into one body of old events and ends it.
- CloudWatch alarms (:mod:`smtop.sim.alarms`, :mod:`smtop.sim.patches.alarms`):
  alarms that evaluate against the metric store on the simulator's clock,
  start INSUFFICIENT_DATA, keep their history, and honour mute rules;
  composite alarms; DescribeAlarms with its filters combined and paged.
- Logs Insights (:mod:`smtop.sim.insights`, :mod:`smtop.sim.patches.insights`):
  queries that really run (moto ignores filter, parse and stats), report
  Running before Complete, can be stopped, and saved query definitions.
- CloudTrail (:mod:`smtop.sim.cloudtrail`, :mod:`smtop.sim.patches.cloudtrail`):
  every management call that reaches the simulator is recorded as CloudTrail
  records it, and LookupEvents (which moto lacks) answers from that history
  with the service's 2 requests a second.
- Sign-in: the IAM Identity Center portal an SSO profile signs in through
  (:mod:`smtop.sim.sso`), which moto has not.
- A demo fleet (:mod:`smtop.sim.fleet`) with three hours of history and live
  traffic (:mod:`smtop.sim.traffic`), container-style logs per instance
  (:mod:`smtop.sim.logs`) whose errors coincide with the canary's metric
  spikes, and people whose changes CloudTrail shows (:mod:`smtop.sim.people`),
  all deterministic with ``--seed``/``--now``; or a large generated fleet
  (:mod:`smtop.sim.synthetic`).
- Faults on demand (:mod:`smtop.sim.faults`): throttling, denied access,
  expired credentials, unsupported operations, latency, dropped connections
  and outages, each answered in the protocol of the call.

Not there: metric math and Metrics Insights expressions in GetMetricData
(the store refuses them with a ValidationError that says so).
"""
