"""The side panel: what the selected endpoint is made of."""

from __future__ import annotations

from rich.table import Table
from rich.text import Text
from textual.widgets import Static

from smtop import format as fmt
from smtop.format import safe_text
from smtop.models import Endpoint, StaleDescription


class EndpointDetail(Static):
    """Status, variants, instance types, counts and weights of one endpoint,
    and, when its description could not be refreshed, what failed and what is shown instead."""

    _shown: Endpoint | None | bool = False
    """The endpoint drawn (False: nothing yet): every refresh brings the same one again."""

    def show(self, endpoint: Endpoint | None) -> None:
        if endpoint == self._shown:
            return
        self._shown = endpoint
        if endpoint is None:
            self.update(Text("no endpoint selected", style="dim"))
            return
        table = Table.grid(padding=(0, 1))
        table.add_column(no_wrap=True, min_width=9)
        table.add_column(no_wrap=True, overflow="ellipsis")
        # Every value here came from AWS: Text(), never markup.
        stale = endpoint.stale
        status = safe_text(endpoint.status)
        if stale is not None:
            status = Text.assemble((fmt.STALE_MARK, "bold yellow"), status)
        table.add_row(Text("status", style="dim"), status)
        if stale is not None:
            when = f"{fmt.clock_time(stale.described_at)}, not since" if stale.described_at else "not yet"
            table.add_row(Text("described", style="dim"), Text(when, style="bold yellow"))
        if endpoint.failure_reason:
            table.add_row(Text("failure", style="dim"), safe_text(endpoint.failure_reason, "red"))
        table.add_row(Text("config", style="dim"), safe_text(endpoint.config_name or fmt.MISSING))
        if endpoint.last_modified:
            table.add_row(Text("modified", style="dim"), Text(endpoint.last_modified.strftime("%Y-%m-%d %H:%MZ")))
        table.add_row(Text("logs", style="dim"), safe_text(endpoint.log_group))
        variants = Table(box=None, padding=(0, 1), show_edge=False, header_style="bold")
        variants.add_column("variant", no_wrap=True, overflow="ellipsis")
        variants.add_column("type", no_wrap=True)
        variants.add_column("inst", justify="right")
        variants.add_column("wt", justify="right")
        for variant in endpoint.variants:
            count = fmt.MISSING if variant.current_instance_count is None else str(variant.current_instance_count)
            if variant.desired_instance_count not in (None, variant.current_instance_count):
                count += f"→{variant.desired_instance_count}"
            weight = fmt.MISSING if variant.current_weight is None else f"{variant.current_weight:g}"
            variants.add_row(safe_text(variant.name), safe_text(variant.instance_type or fmt.MISSING), count, weight)
        outer = Table.grid()
        outer.add_row(table)
        if stale is not None:
            outer.add_row(_stale_note(stale))
        if endpoint.variants or stale is None:
            outer.add_row(variants)
        self.update(outer)


def _stale_note(stale: StaleDescription) -> Text:
    """What failed (untrusted: AWS's message), what is shown instead, and when it is asked again."""
    shown = (
        "Variants, types and counts are from that description; the status is ListEndpoints' current one."
        if stale.described_at
        else "Only ListEndpoints' status is known."
    )
    note = safe_text(stale.reason, "yellow")
    note.append(f" {shown} smtop asks again at the next refresh.", style="yellow")
    return note
