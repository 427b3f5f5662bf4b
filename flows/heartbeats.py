"""Flow-run heartbeats for the runs `minetax` starts itself on a running Prefect server, from a thread that stops at
once.

Prefect's own heartbeat thread (setting flows.heartbeat_frequency, default 180 s) sleeps in 1 s steps and is joined
when the flow ends, so every flow run waited up to 1 s (0.5 s on average) after its work was done: an eighth of
`minetax run` on 2 farms × 1 day against a running server. For the runs of flows.pipeline.call on a server,
Prefect's heartbeats are turned off and these are sent instead: the same event (prefect.flow-run.heartbeat, with
the flow run as its resource and its flow, deployment and tags as related resources, as Prefect builds it), at the
same interval, first when the flow starts, from a thread that waits on an Event, so stopping it costs nothing. A
server's "flow run stopped sending heartbeats" automation sees the same events. Served deployments
(`minetax serve`) and the temporary API are left as they are (Prefect's own heartbeats; none on the temporary API).
"""

from __future__ import annotations

import contextlib
import contextvars
import threading
from collections.abc import Iterator
from typing import Any

# seconds between heartbeats for the flow run that starts next in this context (set by flows.pipeline.call); None:
# no heartbeats of ours (Prefect's own, if any)
INTERVAL: contextvars.ContextVar[int | None] = contextvars.ContextVar("minetax_heartbeat_seconds", default=None)


def _event() -> tuple[dict[str, str], list[Any]] | None:
    """The heartbeat event's resource and related resources for the current flow run (None outside one)."""
    import prefect
    from prefect.context import FlowRunContext
    from prefect.events.related import tags_as_related_resources
    from prefect.events.schemas.events import RelatedResource

    ctx = FlowRunContext.get()
    run = ctx.flow_run if ctx else None
    if ctx is None or run is None:
        return None
    resource = {"prefect.resource.id": f"prefect.flow-run.{run.id}", "prefect.resource.name": run.name or "",
                "prefect.version": prefect.__version__}
    related: list[Any] = []
    if run.flow_id is not None:
        related.append(RelatedResource.model_validate({"prefect.resource.id": f"prefect.flow.{run.flow_id}",
                                                       "prefect.resource.role": "flow",
                                                       "prefect.resource.name": ctx.flow.name if ctx.flow else ""}))
    if run.deployment_id is not None:
        related.append(RelatedResource.model_validate({
            "prefect.resource.id": f"prefect.deployment.{run.deployment_id}", "prefect.resource.role": "deployment"}))
    return resource, related + tags_as_related_resources(set(run.tags or []))


@contextlib.contextmanager
def beating() -> Iterator[None]:
    """Send the current flow run's heartbeats while the block runs, every INTERVAL seconds (nothing when INTERVAL
    is None or outside a flow run)."""
    seconds = INTERVAL.get()
    event = _event() if seconds else None
    if not seconds or event is None:
        yield
        return
    from prefect.events import emit_event

    resource, related = event
    stop = threading.Event()

    def loop() -> None:
        while not stop.is_set():
            with contextlib.suppress(Exception):  # a missed heartbeat is not the run's failure
                emit_event(event="prefect.flow-run.heartbeat", resource=resource, related=related)
            stop.wait(seconds)

    # the thread sees the flow's settings (its PREFECT_API_URL), as Prefect's own heartbeat thread does
    thread = threading.Thread(target=contextvars.copy_context().run, args=(loop,), daemon=True,
                              name="minetax-heartbeat")
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join(timeout=2)
