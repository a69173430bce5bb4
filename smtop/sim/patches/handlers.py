"""How the simulator replaces moto's handlers: a table per service, installed here.

Each patch module names what it replaces in one table, ``HANDLERS``:
``{(moto class, attribute): handler}``.  A handler is a module-level
function called as the method it replaces (the moto object first, then the
method's own arguments); what else it needs (the clock, the metric stores,
the trail…) it declares as keyword-only parameters, and
:func:`install_handlers` passes exactly those from the context it is given.
So a reader sees in one place which moto operations the simulator answers,
and each handler's signature says what it depends on.
"""

from __future__ import annotations

import functools
import inspect
from typing import Any, Callable, Mapping

Handlers = Mapping[tuple[type, str], Callable[..., Any]]


def install_handlers(handlers: Handlers, **context: Any) -> None:
    """Put each handler of ``handlers`` in place of the moto attribute it names (process-wide).

    A property stays a property.

    Raises:
        TypeError: a handler needs something ``context`` does not give
            (then nothing of the table is installed).
    """
    bound = {where: _bind(handler, context) for where, handler in handlers.items()}
    for (owner, name), method in bound.items():
        if isinstance(inspect.getattr_static(owner, name, None), property):
            method = property(method)
        setattr(owner, name, method)


def _bind(handler: Callable[..., Any], context: Mapping[str, Any]) -> Callable[..., Any]:
    needs = [p.name for p in inspect.signature(handler).parameters.values() if p.kind is p.KEYWORD_ONLY]
    missing = [name for name in needs if name not in context]
    if missing:
        raise TypeError(f"{handler.__qualname__} needs {', '.join(missing)}")
    if not needs:
        return handler
    given = {name: context[name] for name in needs}

    @functools.wraps(handler)
    def method(self: Any, *args: Any, **kwargs: Any) -> Any:
        return handler(self, *args, **kwargs, **given)

    return method
