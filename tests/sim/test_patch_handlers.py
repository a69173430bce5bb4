"""The simulator's patch tables: each handler gets what it declares, and nothing it does not."""

from __future__ import annotations

from typing import Any

import pytest

from smtop.sim.patches.handlers import install_handlers


def moto_class() -> type:
    """A stand-in for a moto class: a method with arguments, a property, and no ``added`` yet."""

    class Moto:
        name = "moto"

        def method(self, value: int) -> str:
            return f"moto {value}"

        @property
        def shown(self) -> str:
            return "moto"

    return Moto


def method(moto: Any, value: int, *, clock: float) -> str:
    return f"{moto.name} {value} at {clock}"


def shown(moto: Any, *, stores: str) -> str:
    return f"{moto.name} from {stores}"


def added(moto: Any) -> str:
    return f"{moto.name} added"


def test_handlers_are_called_as_the_methods_they_replace_with_what_they_declare():
    Moto = moto_class()
    install_handlers(
        {(Moto, "method"): method, (Moto, "shown"): shown, (Moto, "added"): added},
        clock=12.5,
        stores="the stores",
        trail="not wanted by any",
    )
    moto = Moto()
    assert moto.method(3) == "moto 3 at 12.5"
    assert moto.shown == "moto from the stores"  # a property stays a property
    assert moto.added() == "moto added"  # what moto lacks is added


def test_a_handler_that_needs_what_it_is_not_given_fails_at_install():
    Moto = moto_class()
    with pytest.raises(TypeError, match="needs clock"):
        install_handlers({(Moto, "shown"): shown, (Moto, "method"): method}, stores="the stores")
    moto = Moto()
    assert (moto.method(1), moto.shown) == ("moto 1", "moto")  # nothing of the table was installed
