"""``cockpit shop``: the reference shopping agent buys something from a Cockpit merchant.

On first use it onboards itself as the operator would — with the demo tenant's admin key
(``<data dir>/demo.key``) it mints a shopper key bound to the merchant and registers the agent
platform (its ES256 signing key, its webhook receiver on a free 127.0.0.1 port) — and keeps the
enrollment in ``<data dir>/shopper/`` (0600). For AP2 it also keeps the user's wallet and the
agent's keys there and puts the wallet key on the tenant's trust list once. Then it shops and
prints the transcript (or ``--json``).
"""

from __future__ import annotations

import json
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from cockpit.cli_errors import CliGroup
from cockpit.exitcodes import CliFailure, ExitCode

if TYPE_CHECKING:
    from rich.console import Console

    from tools.commerce.shopper.client import ShopperError

# The agent, its crypto and rich are imported inside the command: ``--help`` stays fast.
# A command fails by raising; CliGroup prints the one line and picks the exit code.
app = typer.Typer(
    cls=CliGroup,
    help="A reference shopping agent buys from a Cockpit merchant over ACP (and AP2).",
    invoke_without_command=True,
)


def _failure(exc: ShopperError, url: str, key_source: str) -> CliFailure:
    """What the shopper's client raised, as the exit code it means (by who is at fault)."""
    from tools.commerce.shopper.client import AcpRequestError, AcpTransportError

    if isinstance(exc, AcpTransportError):
        return CliFailure(f"cannot reach {url}: {exc}", ExitCode.UNREACHABLE)
    if isinstance(exc, AcpRequestError) and exc.status in (401, 403):
        return CliFailure(f"{url} refused the key from {key_source}: {exc}", ExitCode.AUTH)
    if isinstance(exc, AcpRequestError) and exc.status >= 500:
        return CliFailure(f"{url} failed: {exc}", ExitCode.UNREACHABLE)
    return CliFailure(f"shopping failed: {exc}")


def _wallet(store: Path, url: str, admin_key: str) -> Any:
    """The user's wallet and the agent's keys, kept across runs; the wallet key trusted once."""
    from jwcrypto.jwk import JWK

    from tools.commerce.ap2.wallet import Party
    from tools.commerce.shopper.onboard import save_json

    path = store / "wallet.json"
    data: dict[str, Any] = json.loads(path.read_text()) if path.exists() else {}
    if data.get("url") != url:
        data = {}
    if data:
        user = Party(JWK(**data["user"]), "user-wallet")
        agent = Party(JWK(**data["agent"]), "shopping-agent")
    else:
        user, agent = Party.new("user-wallet"), Party.new("shopping-agent")
        data = {
            "url": url,
            "user": json.loads(user.key.export_private()),
            "agent": json.loads(agent.key.export_private()),
            "trusted": False,
        }
    if not data.get("trusted"):
        from tools.commerce.shopper.onboard import trust_issuer

        trust_issuer(url, admin_key, user.public_jwk, label="cockpit shop user wallet")
        data["trusted"] = True
    save_json(data, path)
    return user, agent


def _minor(budget: str | None, currency: str) -> int | None:
    if budget is None:
        return None
    from cockpit.money import to_minor

    try:
        return int(to_minor(Decimal(budget), currency))
    except (InvalidOperation, ValueError):
        raise typer.BadParameter(
            "a number in the merchant's currency", param_hint="--budget"
        ) from None


@app.callback()
def shop(
    want: Annotated[str, typer.Option(help="What to buy (keywords matched in the feed).")] = "tent",
    quantity: Annotated[int, typer.Option(min=1, max=20)] = 1,
    budget: Annotated[
        str | None, typer.Option(help="Most the whole checkout may cost, e.g. 400 (major units).")
    ] = None,
    pay: Annotated[
        str, typer.Option(help="token (delegated card), ap2 (human present), ap2-open.")
    ] = "token",
    merchant: Annotated[
        str, typer.Option(help="Merchant id or its short key (de, sg, kr, th, br).")
    ] = "mer_demo_de",
    url: Annotated[
        str | None, typer.Option(help="Cockpit server (default: the local one, COCKPIT_HOST/PORT).")
    ] = None,
    key: Annotated[
        str | None, typer.Option(help="Tenant admin key to onboard with (default <data>/demo.key).")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the result as JSON.")] = False,
    wait: Annotated[float, typer.Option(help="Seconds to wait for the order event.")] = 10.0,
) -> None:
    """Discover the merchant, read its feed, check out, pay, and wait for the order event."""
    from rich.console import Console

    from cockpit.config import Settings
    from tools.commerce.shopper.agent import Goal
    from tools.commerce.shopper.client import ShopperError
    from tools.commerce.shopper.mandates import Ap2Mandates
    from tools.commerce.shopper.payment import DelegatedCard
    from tools.commerce.shopper.session import shopper_session

    if pay not in ("token", "ap2", "ap2-open"):
        raise typer.BadParameter("token, ap2 or ap2-open", param_hint="--pay")
    settings = Settings()
    settings.install_clock()
    base = (url or f"http://{settings.host}:{settings.port}").rstrip("/")
    admin_file = settings.data_dir / "demo.key"
    admin_key = key or (admin_file.read_text().strip() if admin_file.exists() else None)
    if not admin_key:
        raise CliFailure(
            f"no admin key: pass --key or run `cockpit serve` here ({admin_file})",
            ExitCode.BAD_INPUT,
        )
    store = settings.data_dir / "shopper"
    try:
        from tools.commerce.shopper.onboard import resolve_merchant

        merchant, currency = resolve_merchant(base, admin_key, merchant)
        with shopper_session(base, admin_key, merchant, store=store / f"{merchant}.json") as s:
            method: Any
            if pay == "token":
                method = DelegatedCard()
            else:
                user, agent = _wallet(store, base, admin_key)
                method = Ap2Mandates(user=user, agent=agent, budget=_minor(budget, currency))
                if pay == "ap2-open":
                    method.mode = "open"
            goal = Goal(want, quantity, _minor(budget, currency), None)
            result = s.buy(goal, method, event_timeout_s=wait)
    except ShopperError as exc:
        raise _failure(exc, base, "--key" if key else str(admin_file)) from None
    console = Console()
    if as_json:
        console.print_json(json.dumps(result.to_dict()))
    else:
        print_transcript(result, console)
    if result.outcome.status != "ordered":
        raise CliFailure(f"no order placed: {result.outcome.status}")


def print_transcript(result: Any, out: Console) -> None:
    """The steps as a table, then the outcome line."""
    from rich.table import Table

    from tools.commerce.shopper.agent import money

    table = Table(title="cockpit shop", show_lines=False)
    for col in ("#", "step", "", "what happened"):
        table.add_column(col)
    for step in result.steps:
        table.add_row(
            str(step.n), step.action, "[green]✓[/]" if step.ok else "[red]✗[/]", step.summary
        )
    out.print(table)
    o = result.outcome
    line = f"[bold]{o.status}[/]"
    if o.order_id:
        line += f": order {o.order_id}, {money(o.total or 0, o.currency or '')} via {o.handler_id}"
    if o.event:
        line += f"; {o.event} event received"
    if o.error_code:
        line += f" ({o.error_code})"
    out.print(line)


__all__ = ["app", "print_transcript"]
